// Shared helpers for sandbox tests: small limits so hostile programs end fast.
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { Limits } from "../../src/sandbox/types.ts";

export const SMALL: Partial<Limits> = {
  timeMs: 1000,
  wallMs: 1500,
  memoryMb: 256,
  processes: 32,
  openFiles: 128,
  stdoutBytes: 1 << 20,
  fileBytes: 1 << 20,
};

/** Host processes whose command line contains `marker` (excluding this test process). */
export function hostProcessesMatching(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes(marker)) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Host processes owned by `uid`. */
export function hostProcessesOf(uid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}`).uid === uid) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
