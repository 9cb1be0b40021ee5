// Every command in the CLI table loads and answers --help: catches a command lost in a merge
// or a module that no longer exports run().
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const EXPECTED = [
  "run",
  "verify",
  "reward",
  "serve-reward",
  "tasks",
  "serve-model",
  "schema",
  "sandbox",
  "select",
  "export",
  "metrics",
  "doctor",
  "references",
  "train",
];

test("datascale lists every command and each answers --help", () => {
  const usage = spawnSync(process.execPath, [main, "--help"], { encoding: "utf8" });
  assert.equal(usage.status, 0);
  for (const name of EXPECTED) {
    assert.match(usage.stdout, new RegExp(`^  ${name} `, "m"), `command ${name} missing from the table`);
    const help = spawnSync(process.execPath, [main, name, "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /usage|datascale/i, name);
  }
  const unknown = spawnSync(process.execPath, [main, "nope"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'nope'/);
});
