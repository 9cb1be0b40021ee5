// Bash scripts with Debian's /bin/bash (package `bash`, always installed).
import type { Runner } from "./types.ts";

export const bash: Runner = {
  language: "bash",
  aliases: ["sh", "shell"],
  fenceTags: ["bash", "sh", "shell", "zsh"],
  sourceName: "main.sh",
  hostPaths: [],
  packages: ["bash"],
  run: (p) => ({ kind: "exec", argv: ["/bin/bash", `${p.build}/main.sh`] }),
};
