// Python 3: the harness forks its own warm interpreter per test, so a test costs a fork,
// not an interpreter start.
import type { Runner } from "./types.ts";

export const python: Runner = {
  language: "python",
  aliases: ["python3", "py", "py3"],
  fenceTags: ["python", "python3", "py", "py3"],
  sourceName: "main.py",
  hostPaths: [],
  packages: ["python3"],
  run: () => ({ kind: "python", args: [] }),
};
