// A Node that the sandbox user cannot reach (under /root, mode 700, as on CI machines where
// scripts/node.sh caches Node 24 in ~/.cache) must still run JavaScript submissions.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { reachableBy } from "../../src/sandbox/runtime-node.ts";

const NOBODY = { uid: 65534, gid: 65534 };

it("reachableBy follows the mode bits of every directory on the way and of the file", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "datascale-reach-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "bin"), { mode: 0o700 });
  const file = join(dir, "bin", "tool");
  writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  assert.equal(reachableBy(file, NOBODY), false, "a 700 directory on the way");
  chmodSync(join(dir, "bin"), 0o711);
  assert.equal(reachableBy(file, NOBODY), true, "search permission is enough for directories");
  chmodSync(file, 0o750);
  assert.equal(reachableBy(file, NOBODY), false, "the file itself must be readable and executable");
  assert.equal(reachableBy(join(dir, "missing"), NOBODY), false);
});

const report = probeIsolation();
const rootWithBwrap = process.getuid?.() === 0 && report.bwrap.works;

it("as root, a Node under a private directory is staged where nobody can reach it, and JavaScript runs", {
  skip: rootWithBwrap ? false : "needs root and working bubblewrap",
  timeout: 60_000,
}, (t) => {
  const home = mkdtempSync(join(tmpdir(), "datascale-private-home-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  chmodSync(home, 0o700);
  mkdirSync(join(home, "node", "bin"), { recursive: true });
  const node = join(home, "node", "bin", "node");
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
  }
  const script = `
      import { Sandbox } from ${JSON.stringify(new URL("../../src/sandbox/sandbox.ts", import.meta.url).href)};
      const sandbox = new Sandbox({ concurrency: 1, warm: 0 });
      try {
        const r = await sandbox.runSubmission({ language: "javascript", code: "console.log(process.version)", tests: [{ stdin: "" }] });
        console.log(JSON.stringify({ runtime: sandbox.report.runtime, test: r.tests[0] }));
      } finally { await sandbox.close(); }`;
  const out = spawnSync(node, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 50_000 });
  assert.equal(out.status, 0, out.stderr);
  const result = JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}") as {
    runtime: string;
    test: { status: string; stdout: string; stderr: string };
  };
  assert.ok(
    !result.runtime.startsWith(home),
    `the staged runtime ${result.runtime} lies outside the private dir`,
  );
  assert.equal(result.test.status, "ok", result.test.stderr);
  assert.equal(result.test.stdout, `${process.version}\n`);
});
