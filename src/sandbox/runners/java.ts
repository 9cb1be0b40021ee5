// Java with Debian's OpenJDK (package `default-jdk-headless`): `javac Main.java`, then
// `java -ea Main`, as SandboxFusion does (public class Main). The JVM reserves address
// space well beyond its heap (code cache, class space, thread stacks), so the heap is
// capped with -Xmx = the memory limit and RLIMIT_AS gets a fixed slack; the JDK's
// configuration under /etc/java-* (jvm.cfg, security policy; no secrets) is bound read-only.
import { readdirSync } from "node:fs";
import type { Limits } from "../types.ts";
import type { Runner } from "./types.ts";

/** Address space the JVM needs beyond -Xmx with the flags below (measured: ~480 MB; doubled-ish). */
export const JVM_RESERVE_MB = 768;

const JVM_FLAGS = [
  "-XX:+UseSerialGC",
  "-XX:ReservedCodeCacheSize=64m",
  "-XX:CompressedClassSpaceSize=64m",
  "-XX:MaxMetaspaceSize=256m",
  "-XX:-UsePerfData",
  "-Xshare:auto",
];

function jdkConfigDirs(): string[] {
  try {
    return readdirSync("/etc")
      .filter((d) => /^java-\d+-openjdk$/.test(d))
      .map((d) => `/etc/${d}`);
  } catch {
    return [];
  }
}

export const java: Runner = {
  language: "java",
  aliases: [],
  fenceTags: ["java"],
  sourceName: "Main.java",
  hostPaths: jdkConfigDirs(),
  packages: ["default-jdk-headless"],
  env: () => ({ MALLOC_ARENA_MAX: "2" }),
  compile: (p, l) => [
    "/usr/bin/javac",
    ...[...JVM_FLAGS, "-XX:TieredStopAtLevel=1", `-Xmx${Math.max(64, l.memoryMb - JVM_RESERVE_MB)}m`].map(
      (f) => `-J${f}`,
    ),
    "-encoding",
    "UTF-8",
    "-d",
    p.build,
    `${p.build}/Main.java`,
  ],
  // javac is a JVM too: it gets the compile budget's memory as its heap plus the slack.
  compileLimits: (l: Limits) => ({ ...l, memoryMb: l.memoryMb + JVM_RESERVE_MB }),
  run: (p, l) => ({
    kind: "exec",
    argv: ["/usr/bin/java", ...JVM_FLAGS, `-Xmx${l.memoryMb}m`, "-ea", "-cp", p.build, "Main"],
  }),
  limits: (l: Limits) => ({ ...l, memoryMb: l.memoryMb + JVM_RESERVE_MB }),
};
