// JavaScript on the Node that runs DataScale itself (process.execPath): always present
// wherever DataScale runs, so no second Node to install. Node cannot fork a warm isolate,
// so each test execs node; the sandbox start is still amortised over a submission's tests.
import type { Limits } from "../types.ts";
import type { Runner } from "./types.ts";

// V8 reserves a multi-GiB virtual cage at start, so RLIMIT_AS cannot be the heap cap:
// the heap is capped with --max-old-space-size and the address space gets this slack.
export const V8_RESERVE_MB = 4096;

export const javascript: Runner = {
  language: "javascript",
  aliases: ["js", "nodejs", "node"],
  fenceTags: ["javascript", "js", "node", "nodejs", "mjs", "cjs"],
  sourceName: "main.js",
  // The sandbox binds DataScale's Node at paths.runtime (see bwrap.ts SANDBOX_DIRS).
  hostPaths: [],
  packages: [],
  run: (p, l) => ({
    kind: "exec",
    argv: [`${p.runtime}/bin/node`, `--max-old-space-size=${l.memoryMb}`, `${p.build}/main.js`],
  }),
  limits: (l: Limits) => ({ ...l, memoryMb: l.memoryMb + V8_RESERVE_MB }),
};
