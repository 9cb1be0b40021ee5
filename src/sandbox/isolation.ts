// What isolation this host offers, probed once when a sandbox is created and reported by
// `datascale sandbox doctor`. A probe actually runs bubblewrap: a binary that exists but
// cannot create namespaces (common in containers) is not isolation.
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { bwrapArgs } from "./bwrap.ts";
import { sandboxNodePrefix } from "./runtime-node.ts";

export interface CgroupReport {
  /** Mount point of the cgroup v2 hierarchy, if mounted. */
  v2Mount: string | undefined;
  /** Controllers available at that mount (cgroup.controllers). */
  controllers: string[];
  /** True when memory and pids controllers could be used for per-sandbox limits. */
  usable: boolean;
  note: string;
}

export interface IsolationReport {
  bwrap: { path: string | undefined; version: string | undefined; works: boolean; error: string | undefined };
  userNamespaces: number | undefined;
  /** A process inside the sandbox can create its own user/PID/mount/net namespaces (zygote mode). */
  nestedNamespaces: boolean;
  /** Host uid/gid sandboxes run as. */
  uid: number | undefined;
  gid: number | undefined;
  /** Host path of the Node prefix sandboxes bind (ours, or a copy the sandbox user can reach). */
  runtime: string;
  cgroup: CgroupReport;
  rlimits: string[];
}

const BWRAP_CANDIDATES = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"];
/** nobody/nogroup: when DataScale runs as root, sandboxes must not (RLIMIT_NPROC exempts root, and root owns host files). */
export const NOBODY = 65534;

function findBwrap(): string | undefined {
  for (const p of BWRAP_CANDIDATES) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export function probeCgroup(): CgroupReport {
  let mounts = "";
  try {
    mounts = readFileSync("/proc/self/mounts", "utf8");
  } catch {
    return { v2Mount: undefined, controllers: [], usable: false, note: "cannot read /proc/self/mounts" };
  }
  const line = mounts.split("\n").find((l) => l.split(" ")[2] === "cgroup2");
  const mount = line?.split(" ")[1];
  if (mount === undefined) {
    return { v2Mount: undefined, controllers: [], usable: false, note: "no cgroup v2 hierarchy mounted" };
  }
  let controllers: string[] = [];
  try {
    controllers = readFileSync(`${mount}/cgroup.controllers`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    // unreadable: treated as none
  }
  const hasBoth = controllers.includes("memory") && controllers.includes("pids");
  return {
    v2Mount: mount,
    controllers,
    usable: false,
    note: hasBoth
      ? "memory and pids controllers present; this version enforces memory/processes with rlimits and does not yet create per-sandbox cgroups"
      : "memory/pids controllers not available on cgroup v2 (hybrid or restricted host): memory and processes are limited with rlimits",
  };
}

export function probeIsolation(): IsolationReport {
  const path = findBwrap();
  const root = process.getuid?.() === 0;
  const uid = root ? NOBODY : undefined;
  const gid = root ? NOBODY : undefined;
  const report: IsolationReport = {
    bwrap: { path, version: undefined, works: false, error: undefined },
    userNamespaces: readNumber("/proc/sys/user/max_user_namespaces"),
    nestedNamespaces: false,
    uid,
    gid,
    runtime: sandboxNodePrefix(uid === undefined || gid === undefined ? undefined : { uid, gid }),
    cgroup: probeCgroup(),
    rlimits: ["CPU", "AS", "FSIZE", "NOFILE", "NPROC", "CORE", "MEMLOCK"],
  };
  if (path === undefined) {
    report.bwrap.error = "bubblewrap (bwrap) not found; install the Debian package `bubblewrap`";
    return report;
  }
  const v = spawnSync(path, ["--version"], { encoding: "utf8" });
  report.bwrap.version = v.stdout?.trim() || undefined;
  const probe = spawnSync(
    path,
    [
      ...bwrapArgs({ readOnly: [], tmpfsBytes: 1 << 20, runtime: report.runtime }),
      "/bin/sh",
      "-c",
      "echo ok",
    ],
    { encoding: "utf8", env: {}, timeout: 10_000, ...(uid === undefined ? {} : { uid, gid }) },
  );
  if (probe.status !== 0 || probe.stdout.trim() !== "ok") {
    report.bwrap.error = `bwrap cannot create a sandbox here: ${(probe.stderr || probe.error?.message || "").trim()}`;
    return report;
  }
  report.bwrap.works = true;
  // Zygote mode needs a sandboxed process to create its own user/PID/mount/net/IPC/UTS namespaces.
  const nested = spawnSync(
    path,
    [
      ...bwrapArgs({ readOnly: [], tmpfsBytes: 1 << 20, runtime: report.runtime }),
      "/usr/bin/python3",
      "-I",
      "-S",
      "-c",
      "import ctypes; print(ctypes.CDLL(None).unshare(0x10000000 | 0x20000 | 0x20000000 | 0x40000000 | 0x8000000 | 0x4000000))",
    ],
    { encoding: "utf8", env: {}, timeout: 10_000, ...(uid === undefined ? {} : { uid, gid }) },
  );
  report.nestedNamespaces = nested.status === 0 && nested.stdout.trim() === "0";
  return report;
}
