// DataScale's own Node, as a host path the sandbox user can reach. When DataScale runs as
// root its sandboxes run as nobody, and bubblewrap resolves bind sources as that user: a Node
// under /root (the cache scripts/node.sh fills, nvm, pyenv-style installs) is unreachable and
// bwrap refuses to start ("Can't find source path ...: Permission denied"). Then we stage the
// one file the JavaScript runner needs, bin/node, in a root-owned world-readable directory —
// a hard link when the file system allows (no copy), else a copy made once per Node version.
import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The prefix (bin/node under it) of the Node running DataScale. */
export const NODE_PREFIX = dirname(dirname(process.execPath));

interface Who {
  uid: number;
  gid: number;
}

/** Whether `who` may use `mode` bits (1 = x, 4 = r) on a file with this owner and permissions. */
function permits(st: { uid: number; gid: number; mode: number }, who: Who, bits: number): boolean {
  if (st.uid === who.uid) return ((st.mode >> 6) & bits) === bits;
  if (st.gid === who.gid) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

/**
 * True when `who` can search every directory down to `file` and read and execute it, by mode
 * bits alone (an ACL that would also allow it is ignored: we then stage a copy we did not need).
 */
export function reachableBy(file: string, who: Who): boolean {
  try {
    const abs = resolve(file);
    const parts = abs.split("/").filter(Boolean);
    let dir = "/";
    for (const part of parts.slice(0, -1)) {
      if (!permits(statSync(dir), who, 1)) return false;
      dir = join(dir, part);
    }
    if (!permits(statSync(dir), who, 1)) return false;
    return permits(statSync(abs), who, 5);
  } catch {
    return false;
  }
}

/** A directory we may trust: a real directory (not a link) owned by us and writable by no one else. */
function trusted(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** A staged prefix we made: trusted directories and a bin/node file of ours that no one else can write. */
function complete(prefix: string): boolean {
  if (!trusted(prefix) || !trusted(join(prefix, "bin"))) return false;
  try {
    const st = lstatSync(join(prefix, "bin", "node"));
    return st.isFile() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function stageIn(parent: string, name: string): string {
  const final = join(parent, name);
  if (complete(final)) return final;
  // Build in a private temporary directory, then rename into place (atomic; a racing process
  // that wins keeps its copy, which is as good as ours).
  const tmp = mkdtempSync(join(parent, ".datascale-node-"));
  mkdirSync(join(tmp, "bin"));
  const node = join(tmp, "bin", "node");
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
  }
  chmodSync(node, 0o755);
  chmodSync(join(tmp, "bin"), 0o755);
  chmodSync(tmp, 0o755);
  try {
    renameSync(tmp, final);
    return final;
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    if (complete(final)) return final;
    // Someone else's directory holds the name: use a private one of ours instead.
    const own = mkdtempSync(join(parent, "datascale-node-"));
    chmodSync(own, 0o755);
    mkdirSync(join(own, "bin"), { mode: 0o755 });
    copyFileSync(process.execPath, join(own, "bin", "node"));
    chmodSync(join(own, "bin", "node"), 0o755);
    return own;
  }
}

const staged = new Map<string, string>();

/**
 * The host path to bind as the sandbox's Node prefix for sandboxes running as `who`
 * (undefined: as ourselves, who can always reach our own binary).
 */
export function sandboxNodePrefix(who: Who | undefined): string {
  if (who === undefined || reachableBy(process.execPath, who)) return NODE_PREFIX;
  const key = `${who.uid}:${who.gid}`;
  const known = staged.get(key);
  if (known !== undefined) return known;
  const st = statSync(process.execPath);
  const name = `datascale-node-${process.version}-${st.size}-${Math.trunc(st.mtimeMs)}`;
  // The staging parent must itself be reachable by the sandbox user: the system temp dir
  // normally is (mode 1777); /var/tmp is the fallback for hosts that close /tmp.
  const parents = [tmpdir(), "/var/tmp", "/tmp"];
  for (const parent of parents) {
    let dir: string;
    try {
      dir = stageIn(parent, name);
    } catch {
      continue;
    }
    if (reachableBy(join(dir, "bin", "node"), who)) {
      staged.set(key, dir);
      return dir;
    }
  }
  // Nothing better: bind the original and let the probe report bwrap's own error.
  return NODE_PREFIX;
}
