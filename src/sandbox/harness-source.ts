// The harness's Python source, read once; it is passed to `python3 -c` so nothing needs
// to be bound into the sandbox for it.
import { readFileSync } from "node:fs";

export const HARNESS_SOURCE = readFileSync(new URL("./harness.py", import.meta.url), "utf8");
