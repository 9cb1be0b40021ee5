// The main job end to end at the tiny scale, through the CLI: every stage runs, the results
// file is valid, the report is written, and a run killed mid-way resumes to the same results
// as an uninterrupted one.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExperimentResults } from "../../src/experiment/results.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "datascale-main-job-"));
after(() => rmSync(work, { recursive: true, force: true }));

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "run", ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The results without the figures that depend on the clock. */
function comparable(path: string): unknown {
  const r = ExperimentResults.parse(JSON.parse(readFileSync(path, "utf8")));
  const { startedAt: _s, finishedAt: _f, wallSeconds: _w, ...rest } = r;
  return rest;
}

const straight = join(work, "straight");

it("runs every stage at the tiny scale and writes results and the report", { timeout: 150_000 }, () => {
  const r = runCli(["--scale", "tiny", "--run-dir", straight]);
  assert.equal(r.status, 0, r.stderr);
  const results = ExperimentResults.parse(JSON.parse(readFileSync(join(straight, "results.json"), "utf8")));
  assert.deepEqual(
    results.ladder.map((c) => c.name),
    ["ladder-rtv", "ladder-genrm-gt", "ladder-genrm-bon", "ladder-bt"],
  );
  assert.deepEqual(
    results.comparison.map((c) => c.name),
    ["baseline", "datascale", "selection-only", "curriculum-only"],
  );
  for (const c of [...results.ladder, ...results.comparison]) {
    // Step 0 (the SFT policy) plus one evaluation every 3 of 6 steps.
    assert.deepEqual(
      c.points.map((p) => p.step),
      [0, 3, 6],
      c.name,
    );
    assert.equal(c.trainReward.length, 6, c.name);
    for (const p of c.points) {
      assert.ok(p.gold.overall >= 0 && p.gold.overall <= 1);
      assert.deepEqual(Object.keys(p.gold.byDomain), ["code", "general", "logic", "math"]);
    }
  }
  // Every run starts from the same SFT policy, so the step-0 gold is the same everywhere.
  const start = results.ladder[0]!.points[0]!.gold.overall;
  for (const c of [...results.ladder, ...results.comparison]) assert.equal(c.points[0]!.gold.overall, start);
  // Selection keeps math and code whole and filters the rest.
  for (const d of results.selection.domains) {
    if (d.filtered) assert.ok(d.kept < d.pool, `${d.domain} was filtered`);
    else assert.equal(d.kept, d.pool, `${d.domain} is kept whole`);
  }
  // RTV scores are 0/1 and separate a one-character edit of the truth: the nearest bin has gaps.
  const rtv = results.sensitivity.find((s) => s.source === "rtv")!;
  assert.ok(rtv.bins.some((b) => b.pairs > 0 && (b.meanGap ?? 0) > 0));
  assert.equal(results.findings.length, 6);
  const html = readFileSync(join(straight, "report.html"), "utf8");
  for (const f of results.findings) assert.ok(html.includes(f.title.replace(/&/g, "&amp;")), f.title);
  assert.ok(existsSync(join(straight, "report.md")));
  assert.match(r.stdout, /findings \(\d of 6 reproduced\)/);
  // --report-only re-renders from results.json without training.
  rmSync(join(straight, "report.html"));
  const again = runCli(["--scale", "tiny", "--run-dir", straight, "--report-only"]);
  assert.equal(again.status, 0, again.stderr);
  assert.ok(existsSync(join(straight, "report.html")));
});

it("resumes after a kill and ends with the same results as an uninterrupted run", {
  timeout: 150_000,
}, async () => {
  const dir = join(work, "killed");
  const child = spawn(process.execPath, [CLI, "run", "--scale", "tiny", "--run-dir", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  await new Promise<void>((resolve) => {
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      stderr += s;
      // Kill inside the ladder: some stages are finished, one PPO run is under way.
      if (/ppo-genrm-gt: PPO/.test(stderr)) child.kill("SIGKILL");
    });
    child.on("close", () => resolve());
  });
  assert.match(stderr, /ppo-genrm-gt/);
  assert.ok(!existsSync(join(dir, "results.json")), "the killed run had not finished");
  const r = runCli(["--scale", "tiny", "--run-dir", dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sft: done earlier \(resumed\)/);
  assert.match(r.stderr, /ppo-rtv: done earlier \(resumed\)/);
  assert.deepEqual(comparable(join(dir, "results.json")), comparable(join(straight, "results.json")));
});

it("refuses a run directory started with another configuration, and bad configs name the field", () => {
  const bad = join(work, "bad.json");
  writeFileSync(bad, JSON.stringify({ ppo: { steps: -1 } }));
  const r = runCli(["--scale", "tiny", "--run-dir", join(work, "x"), "--config", bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.json: ppo\.steps/);
  const other = runCli(["--scale", "tiny", "--run-dir", straight, "--seed", "2"]);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /different configuration/);
  const scale = runCli(["--scale", "huge"]);
  assert.equal(scale.status, 2);
  assert.match(scale.stderr, /unknown --scale 'huge'/);
});
