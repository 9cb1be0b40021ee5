// C++ with the system g++ (Debian `g++`); compiled inside the sandbox, so a hostile
// source (an #include of /dev/zero, template bombs) meets the same limits as a run.
import type { Runner } from "./types.ts";

export const cpp: Runner = {
  language: "cpp",
  aliases: ["c++", "cxx", "cc"],
  fenceTags: ["cpp", "c++", "cxx", "cc"],
  sourceName: "main.cpp",
  hostPaths: [],
  packages: ["g++"],
  compile: (p) => [
    "/usr/bin/g++",
    "-O2",
    "-std=gnu++17",
    "-pipe",
    "-o",
    `${p.build}/main`,
    `${p.build}/main.cpp`,
  ],
  run: (p) => ({ kind: "exec", argv: [`${p.build}/main`] }),
};
