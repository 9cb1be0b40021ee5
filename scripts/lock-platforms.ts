// Some npm registries (including the mirror our CI uses) serve only the current platform's
// builds of packages that ship native binaries as optional per-platform packages (Biome,
// for one). `npm install` then writes a lockfile without the other platforms' entries and
// `npm ci` refuses it. This adds the missing entries, each gated by its `os`/`cpu`/`libc`,
// so npm ci skips them on other platforms exactly as it would with a complete lockfile.
// Run after `npm install`: `node scripts/lock-platforms.ts`.
import { readFileSync, writeFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  [key: string]: unknown;
}

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, LockEntry> };
const PLATFORM = /-(linux|darwin|win32|android|freebsd)-(x64|arm64|ia32|arm)(-musl)?$/;
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`;
    const m = PLATFORM.exec(name);
    if (lock.packages[target] !== undefined || m === null || key === "") continue;
    const base = name.split("/").pop();
    lock.packages[target] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [m[1] as string],
      cpu: [m[2] as string],
      ...(m[3] ? { libc: ["musl"] } : {}),
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
process.stdout.write(`lock-platforms: added ${added} platform-gated entries\n`);
