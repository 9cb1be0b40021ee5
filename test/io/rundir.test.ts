import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { z } from "zod";
import { AppendLog, RunDir, readJsonFile, repairAppendLog, writeJsonAtomic } from "../../src/io/rundir.ts";

const root = await mkdtemp(join(tmpdir(), "ds-rundir-"));
after(() => rm(root, { recursive: true, force: true }));

test("writeJsonAtomic replaces the file whole and leaves no temporary files", async () => {
  const p = join(root, "a.json");
  await writeJsonAtomic(p, { n: 1 });
  await writeJsonAtomic(p, { n: 2 });
  assert.deepEqual(await readJsonFile(p, z.object({ n: z.number() })), { n: 2 });
  assert.deepEqual(await readdir(root), ["a.json"]);
  assert.equal(await readJsonFile(join(root, "missing.json"), z.object({})), undefined);
  await writeFile(join(root, "bad.json"), '{"n":"x"}');
  await assert.rejects(readJsonFile(join(root, "bad.json"), z.object({ n: z.number() })), /bad\.json: n:/);
});

test("a torn last line left by a kill is cut off when the log is reopened", async () => {
  const p = join(root, "log.jsonl");
  const log = await AppendLog.open(p);
  await log.append({ i: 1 });
  await log.append({ i: 2 });
  await log.close();
  await appendFile(p, '{"i":3, "trunc');
  assert.equal(await repairAppendLog(p), 16);
  const again = await AppendLog.open(p);
  await again.append({ i: 3 });
  await again.close();
  assert.equal(await readFile(p, "utf8"), '{"i":1}\n{"i":2}\n{"i":3}\n');
});

test("RunDir resumes only the same job, and a fresh start clears the job's files", async () => {
  const path = join(root, "run");
  const first = await RunDir.open(path, { kind: "k", key: { a: 1 }, resume: true, files: ["x.jsonl"] });
  assert.equal(first.resumed, false);
  await writeFile(first.dir.file("x.jsonl"), "data\n");
  const same = await RunDir.open(path, { kind: "k", key: { a: 1 }, resume: true, files: ["x.jsonl"] });
  assert.equal(same.resumed, true);
  assert.equal(await readFile(same.dir.file("x.jsonl"), "utf8"), "data\n");
  await assert.rejects(RunDir.open(path, { kind: "k", key: { a: 2 }, resume: true }), /different job/);
  await RunDir.open(path, { kind: "k", key: { a: 2 }, resume: false, files: ["x.jsonl"] });
  await assert.rejects(readFile(join(path, "x.jsonl")), /ENOENT/);
});
