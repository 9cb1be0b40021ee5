// Shared helpers for sandbox tests: small limits so hostile programs end fast.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
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

/** A loopback TCP server no sandboxed program may reach: it counts and drops every connection. */
export interface LoopbackTrap {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

export async function loopbackTrap(): Promise<LoopbackTrap> {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

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

/** Host processes owned by `uid` that descend from process `root`. */
export function descendantsOf(root: number, uid: number): number[] {
  const parent = new Map<number, number>();
  const owned = new Set<number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      if (statSync(`/proc/${name}`).uid === uid) owned.add(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return [...owned].filter((pid) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  });
}
