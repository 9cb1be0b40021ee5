// The bubblewrap command line for one sandbox: fresh namespaces (user, PID, network,
// IPC, UTS, cgroup, mount), a read-only view of /usr and the few paths runners need,
// size-capped private tmpfs for /tmp, /dev/shm, the work dir, the build dir and the harness
// scratch, a read-only root and /dev,
// a cleared environment, and death with the parent.
import { lstatSync, readlinkSync } from "node:fs";

/**
 * Paths as the sandboxed program sees them. `runtime` is DataScale's own Node installation,
 * bound read-only at a fixed place: its host path may lie under a directory the sandbox
 * replaces with a private tmpfs (a Node fetched into a cache under /tmp, say).
 */
export const SANDBOX_DIRS = {
  work: "/work",
  build: "/build",
  scratch: "/scratch",
  tmp: "/tmp",
  runtime: "/opt/datascale/node",
} as const;

export interface BwrapOptions {
  /** Host paths bound read-only at the same place (toolchains outside /usr). */
  readOnly: readonly string[];
  /** Size of each private tmpfs, bytes. */
  tmpfsBytes: number;
  /** Host path of DataScale's Node prefix, bound at SANDBOX_DIRS.runtime (see runtime-node.ts). */
  runtime: string;
  /** Forbid further user namespaces inside (not for the zygote, which needs them and then forbids them itself). */
  disableUserns?: boolean;
}

function rootLinks(): string[] {
  const args: string[] = [];
  for (const top of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(top);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(top), top);
    else if (st.isDirectory()) args.push("--ro-bind", top, top);
  }
  return args;
}

export function bwrapArgs(options: BwrapOptions): string[] {
  const size = String(options.tmpfsBytes);
  const args = [
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin",
    "--setenv",
    "HOME",
    SANDBOX_DIRS.work,
    "--setenv",
    "LANG",
    "C.UTF-8",
    "--hostname",
    "sandbox",
    "--ro-bind",
    "/usr",
    "/usr",
    ...rootLinks(),
    "--ro-bind-try",
    "/etc/alternatives",
    "/etc/alternatives",
    "--ro-bind-try",
    "/etc/ld.so.cache",
    "/etc/ld.so.cache",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
  ];
  for (const dir of [
    SANDBOX_DIRS.tmp,
    SANDBOX_DIRS.work,
    SANDBOX_DIRS.build,
    SANDBOX_DIRS.scratch,
    "/dev/shm",
  ]) {
    args.push("--size", size, "--tmpfs", dir);
  }
  for (const p of new Set(options.readOnly)) {
    if (p === "/usr" || p.startsWith("/usr/")) continue;
    args.push("--ro-bind", p, p);
  }
  args.push("--ro-bind", options.runtime, SANDBOX_DIRS.runtime);
  // bwrap builds the root and /dev on unbounded tmpfs; left writable they would let a
  // program fill host memory (and /dev would be shared state). Only the capped dirs stay writable.
  args.push("--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SANDBOX_DIRS.work);
  if (options.disableUserns === true) args.push("--unshare-user", "--disable-userns");
  return args;
}
