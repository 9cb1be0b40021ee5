// The Python package (integrations/python): installed with pip, then driven as TRL, AReaL
// and verl call their reward functions, against real reward servers started here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { PYTHON, run, startServer, type TestServer } from "./server.ts";

const pkgDir = fileURLToPath(new URL("../../integrations/python/", import.meta.url));
const check = fileURLToPath(new URL("./py/adapters_check.py", import.meta.url));
const noPython = !existsSync(PYTHON) && `${PYTHON} not found`;
const pipReady =
  !noPython &&
  spawnSync(PYTHON, ["-m", "pip", "--version"]).status === 0 &&
  spawnSync(PYTHON, ["-c", "import setuptools"]).status === 0;

let a: TestServer;
let b: TestServer;
let slow: TestServer;
let scratch: string;
/** Where the package is imported from: the pip target when pip works, else the source tree. */
let sitePath = pkgDir;

before(async () => {
  [a, b, slow] = await Promise.all([startServer(), startServer(), startServer({ maxQueue: 1 })]);
  scratch = mkdtempSync(join(tmpdir(), "datascale-py-"));
});
after(async () => {
  await Promise.all([a?.close(), b?.close(), slow?.close()]);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

async function requestsOn(server: TestServer, route: string): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const re = new RegExp(
    `datascale_requests_total\\{route="${route.replace(/\//g, "\\/")}",status="(\\d+)"\\} (\\d+)`,
    "g",
  );
  return [...text.matchAll(re)].reduce((s, m) => s + Number(m[2]), 0);
}

test("pip install ./integrations/python works offline with the standard library only", {
  skip: noPython || (!pipReady && "Debian python3-pip/python3-setuptools not installed"),
}, async () => {
  // Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
  const src = join(scratch, "src");
  cpSync(pkgDir, src, { recursive: true });
  const target = join(scratch, "site");
  const res = await run(PYTHON, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--no-build-isolation",
    "--no-deps",
    "--no-index",
    "--disable-pip-version-check",
    "--target",
    target,
    src,
  ]);
  assert.equal(res.code, 0, res.stderr);
  assert.ok(existsSync(join(target, "datascale_rewards", "trl.py")));
  sitePath = target;
  // -S: no site-packages at all, so nothing outside the standard library can be imported.
  const imp = await run(PYTHON, [
    "-S",
    "-c",
    "import sys; sys.path.insert(0, sys.argv[1]); import datascale_rewards.trl, datascale_rewards.areal, datascale_rewards.verl",
    target,
  ]);
  assert.equal(imp.code, 0, imp.stderr);
});

async function drive(steps: string[], env: Record<string, string> = {}) {
  const res = await run(PYTHON, [check, ...steps], {
    PYTHONPATH: sitePath,
    DATASCALE_REWARD_URL: `${a.base},${b.base}`,
    DATASCALE_RETRIES: "3",
    ...env,
  });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

test("TRL reward_funcs (sync and async) take TRL's call and return floats per completion", {
  skip: noPython,
}, async () => {
  const out = await drive(["trl"]);
  assert.deepEqual(out["trl_sync"], [1, 0, 0]);
  assert.deepEqual(out["trl_async"], [1, 0, 0]);
  assert.equal(out["trl_async_is_coroutine"], true);
  assert.equal(out["trl_sync_name"], "datascale_sync");
  assert.deepEqual(out["trl_text"], [1, 0]);
  if (sitePath !== pkgDir) assert.ok(String(out["package_file"]).startsWith(sitePath));
});

test("AReaL reward_fn runs in a process pool as AsyncRewardWrapper runs it and returns floats", {
  skip: noPython,
}, async () => {
  const out = await drive(["areal"]);
  assert.deepEqual(out["areal"], [1, 0]);
  assert.deepEqual(out["areal_types"], ["float", "float"]);
  assert.deepEqual(out["areal_permanent"], { status: 422, code: "unknown_data_source" });
});

test("verl's reward loop awaits compute_score: same keys per sample, unknown data source raises", {
  skip: noPython,
}, async () => {
  const out = await drive(["verl"]);
  assert.deepEqual(out["verl"], [
    { score: 1, acc: 1, invalid: 0 },
    { score: 0, acc: 0, invalid: 0 },
    { score: 1, acc: 1, invalid: 0 },
    { status: 422, code: "unknown_data_source" },
  ]);
});

test("the client spreads requests over servers, skips a dead one, fails fast on 4xx, retries 429", {
  skip: noPython,
}, async () => {
  const before = [await requestsOn(a, "/v1/score"), await requestsOn(b, "/v1/score")];
  const out = await drive(["client"], { DATASCALE_SLOW_URL: slow.base });
  assert.deepEqual(out["spread_scores"], [1, 1, 1, 1, 1, 1]);
  const after = [await requestsOn(a, "/v1/score"), await requestsOn(b, "/v1/score")];
  // Six good calls and one refused: both servers took a share.
  assert.ok(after[0]! > before[0]! && after[1]! > before[1]!, `requests per server: ${before} → ${after}`);
  assert.deepEqual(out["permanent"], { status: 422, code: "unknown_data_source", fast: true });
  assert.deepEqual(out["overload"], [1, 1, 1]);
  const text = await (await fetch(`${slow.base}/metrics`)).text();
  assert.match(text, /datascale_requests_total\{route="\/v1\/score",status="429"\} [1-9]/);
});
