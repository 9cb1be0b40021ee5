import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "datascale-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, "sandbox", ...args], { encoding: "utf8", timeout: 60_000 });
}

it("sandbox run feeds --stdin and reports the status; limits give a non-zero exit", () => {
  writeFileSync(join(dir, "p.py"), "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n");
  writeFileSync(join(dir, "in.txt"), "1 2 3\n");
  const ok = cli("run", "--language", "python", join(dir, "p.py"), "--stdin", join(dir, "in.txt"));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, "6\n");
  assert.match(ok.stderr, /\[ok\] exit=0/);
  writeFileSync(join(dir, "loop.py"), "while True: pass\n");
  const tle = cli("run", "--language", "py", join(dir, "loop.py"), "--time-ms", "300", "--json");
  assert.equal(tle.status, 1);
  assert.equal(JSON.parse(tle.stdout).run.status, "time_limit");
  const bad = cli("run", "--language", "python", join(dir, "missing.py"));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot read program .*missing\.py/);
});

it("sandbox doctor reports working isolation and every language", () => {
  const r = cli("doctor", "--json");
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.bwrap.works, true);
  assert.deepEqual(Object.keys(report.languages).sort(), [
    "bash",
    "cpp",
    "go",
    "go_test",
    "java",
    "javascript",
    "perl",
    "python",
    "rust",
    "typescript",
  ]);
  for (const [language, status] of Object.entries(report.languages))
    assert.match(String(status), /^ok \(hello from /, `${language}: ${status}`);
});
