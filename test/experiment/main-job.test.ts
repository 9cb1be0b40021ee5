// The main job end to end at the tiny scale, through the CLI, on one shared run of two seeds
// in parallel processes: every stage runs through the shared reward system, each seed and
// the pool write valid results, the report renders in a real browser, a run killed mid-way
// resumes to the same results as an uninterrupted one, and `serve-reward --config
// <seed>/reward.yaml` gives exactly the rewards the experiment used.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkReport, chromiumPath } from "../../scripts/check-report.ts";
import { type Reward, Task } from "../../src/core/schemas.ts";
import { PooledResults, SeedResults } from "../../src/experiment/results.ts";
import { openSeedRewards } from "../../src/experiment/reward-config.ts";
import { SampleRecord } from "../../src/experiment/stages/context.ts";
import { readJsonlAll } from "../../src/io/jsonl.ts";
import { createKernel } from "../../src/model/kernels/index.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "datascale-main-job-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs compared bit for bit use one kernel thread: the thread count changes float summation order. */
const ONE_THREAD = { ...process.env, DATASCALE_THREADS: "1" };

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "run", ...args], { encoding: "utf8", timeout: 900_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A seed's results without the figures that depend on the clock. */
function comparable(path: string): unknown {
  const r = SeedResults.parse(JSON.parse(readFileSync(path, "utf8")));
  const { startedAt: _s, finishedAt: _f, wallSeconds: _w, ...rest } = r;
  return rest;
}

const straight = join(work, "straight");
let straightRun: ReturnType<typeof runCli>;
before(() => {
  straightRun = runCli(
    ["--scale", "tiny", "--seeds", "2", "--parallel", "2", "--run-dir", straight],
    ONE_THREAD,
  );
});

it("runs every stage of two seeds and writes per-seed and pooled results and the report", () => {
  assert.equal(straightRun.status, 0, straightRun.stderr);
  const pooled = PooledResults.parse(JSON.parse(readFileSync(join(straight, "results.json"), "utf8")));
  assert.deepEqual(pooled.seeds, [1, 2]);
  assert.equal(pooled.findings.length, 6);
  // Two seeds decide nothing (the rule needs three), but every comparison has both seeds' effects.
  for (const f of pooled.findings) {
    assert.equal(f.verdict, "inconclusive", f.id);
    for (const c of f.comparisons)
      assert.deepEqual(
        c.effect.perSeed.map((p) => p.seed),
        [1, 2],
        c.id,
      );
  }
  assert.deepEqual(
    pooled.gao.map((g) => g.source),
    ["rtv", "genrm-gt", "genrm-bon", "bt"],
  );
  for (const seed of [1, 2]) {
    const dir = join(straight, `seed-${seed}`);
    const r = SeedResults.parse(JSON.parse(readFileSync(join(dir, "results.json"), "utf8")));
    assert.equal(r.seed, seed);
    assert.deepEqual(
      r.ladder.map((c) => c.name),
      ["ladder-rtv", "ladder-genrm-gt", "ladder-genrm-bon", "ladder-bt"],
    );
    assert.deepEqual(
      r.comparison.map((c) => c.name),
      ["baseline", "datascale", "selection-only", "curriculum-only"],
    );
    for (const c of [...r.ladder, ...r.comparison]) {
      assert.deepEqual(
        c.points.map((p) => p.step),
        [0, 3, 6],
        c.name,
      );
      assert.equal(c.trainReward.length, 6, c.name);
      for (const p of c.points) {
        assert.deepEqual(Object.keys(p.heldout.byDomain), ["code", "general", "logic", "math"]);
        assert.ok(p.heldout.n > 0);
        // Proxy errors (e.g. a tiny policy's garbage too long for the judge) are counted, not scored 0.
        assert.ok(p.proxyErrors !== undefined && p.proxyErrors < p.gold.n, `${c.name} step ${p.step}`);
      }
    }
    // Every run starts from the same SFT policy, so the step-0 gold is the same everywhere.
    const start = r.ladder[0]!.points[0]!.heldout.overall;
    for (const c of [...r.ladder, ...r.comparison]) assert.equal(c.points[0]!.heldout.overall, start);
    for (const d of r.selection.domains) {
      if (d.filtered) assert.ok(d.kept < d.pool, `${d.domain} was filtered`);
      else assert.equal(d.kept, d.pool, `${d.domain} is kept whole`);
    }
    // RTV scores are 0/1 and separate a one-character edit of the truth.
    const rtv = r.sensitivity.find((s) => s.source === "rtv")!;
    assert.ok(rtv.near.pairs > 0 && rtv.near.meanGap > 0);
    // The run directory holds the reward configs it used and HF-layout judges they name.
    for (const f of [
      "reward.yaml",
      "reward-rtv.yaml",
      "reward-genrm-gt.yaml",
      "reward-genrm-bon.yaml",
      "reward-bt.yaml",
    ])
      assert.ok(existsSync(join(dir, f)), f);
    for (const m of ["genrm", "bt"]) assert.ok(existsSync(join(dir, "models", m, "hf", "model.safetensors")));
    // The judges' SFT trains longer than the policy's (tiny: 40 vs 30 steps), each its own model.
    assert.deepEqual([r.world.steps["sft"], r.world.steps["judgeSft"]], [30, 40]);
    for (const [m, step] of [
      ["sft", 30],
      ["judge-sft", 40],
    ] as const) {
      const latest = JSON.parse(readFileSync(join(dir, "models", m, "latest.json"), "utf8")) as {
        step: number;
      };
      assert.equal(latest.step, step, m);
      assert.ok(existsSync(join(dir, "models", m, "hf", "model.safetensors")), m);
    }
    // The judges have their own shape (tiny: 2 layers, the policy 1), recorded in results.json
    // and in the judges' HF configs.
    assert.deepEqual([r.world.model.nLayers, r.world.judgeModel?.nLayers], [1, 2]);
    for (const m of ["judge-sft", "genrm", "bt"]) {
      const hf = JSON.parse(readFileSync(join(dir, "models", m, "hf", "config.json"), "utf8")) as {
        num_hidden_layers: number;
      };
      assert.equal(hf.num_hidden_layers, 2, m);
    }
  }
  const html = readFileSync(join(straight, "report.html"), "utf8");
  for (const f of pooled.findings) assert.ok(html.includes(f.title.replace(/&/g, "&amp;")), f.title);
  assert.ok(existsSync(join(straight, "report.md")));
  assert.match(straightRun.stdout, /findings over 2 seed\(s\) \(0 of 6 reproduced\)/);
  assert.match(straightRun.stderr, /\[seed 2\] \[17\/17\] ppo-curriculum-only: finished/);
  // --report-only re-renders from the seeds' results.json without training.
  rmSync(join(straight, "report.html"));
  const again = runCli(["--scale", "tiny", "--seeds", "2", "--run-dir", straight, "--report-only"]);
  assert.equal(again.status, 0, again.stderr);
  assert.ok(existsSync(join(straight, "report.html")));
});

/** A seed's held-out tasks (with their Best-of-N references) and its SFT samples by task id. */
async function heldOutData(dir: string): Promise<{ tasks: Task[]; samples: Map<string, string[]> }> {
  const tasks = await readJsonlAll(join(dir, "data", "eval-refs.jsonl"), Task);
  const records = await readJsonlAll(join(dir, "data", "samples-eval.jsonl"), SampleRecord);
  return { tasks, samples: new Map(records.map((s) => [String(s.id), s.samples])) };
}

it("Best-of-N references are each task's reference.response, picked among its SFT samples", async () => {
  const dir = join(straight, "seed-1");
  const { tasks, samples } = await heldOutData(dir);
  assert.ok(tasks.length > 0);
  for (const t of tasks)
    assert.ok(samples.get(String(t.id))!.includes(String(t.reference?.response)), String(t.id));
});

it("the report renders in headless Chromium: no console errors, every plot drawn", {
  skip: chromiumPath() === undefined ? "no Chromium on this machine (Debian package chromium)" : false,
}, async () => {
  const r = await checkReport(join(straight, "report.html"), { screenshot: join(work, "top.png") });
  assert.deepEqual(r.problems, []);
  assert.equal(r.plots.length, 10);
  for (const p of r.plots) assert.ok(p.marks > 0, p.id);
  assert.ok(readFileSync(join(work, "top.png")).subarray(1, 4).toString() === "PNG");
});

it("serve-reward --config <seed>/reward.yaml gives exactly the experiment's in-process rewards", async () => {
  const dir = join(straight, "seed-1");
  const { tasks, samples } = await heldOutData(dir);
  const rollouts = tasks.flatMap((t) =>
    (samples.get(String(t.id)) ?? []).map((response, i) => ({ ...t, id: `${t.id}#${i}`, response })),
  );
  const kernel = createKernel("wasm");
  const local = await openSeedRewards(dir, kernel);
  let expected: Reward[];
  try {
    expected = await local.hybrid(rollouts);
  } finally {
    await local.close();
    kernel.close();
  }
  const child = spawn(
    process.execPath,
    [
      CLI,
      "serve-reward",
      "--config",
      join(dir, "reward.yaml"),
      "--port",
      "0",
      "--no-run-code",
      "--workers",
      "1",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, DATASCALE_KERNEL: "wasm" },
    },
  );
  try {
    const url = await new Promise<string>((ok, fail) => {
      let err = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (s: string) => {
        err += s;
        const m = /reward server on (http:\/\/\S+)/.exec(err);
        if (m) ok(m[1]!);
      });
      child.on("close", (code) => fail(new Error(`serve-reward exited ${code}: ${err}`)));
    });
    const res = await fetch(`${url}/v1/rewards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rollouts }),
    });
    assert.equal(res.status, 200);
    const { rewards } = (await res.json()) as {
      rewards: { id: string; score: number; verdict: string; source: string }[];
    };
    assert.equal(rewards.length, expected.length);
    const sources = new Set(expected.map((r) => r.source));
    assert.ok(sources.has("genrm:gt") && sources.has("genrm:bon"), [...sources].join(", "));
    for (const [i, r] of rewards.entries()) {
      const e = expected[i]!;
      assert.equal(r.source, e.source);
      assert.equal(r.verdict, e.verdict, `${r.id}`);
      assert.ok(Math.abs(r.score - e.score) < 1e-9, `${r.id}: served ${r.score}, in-process ${e.score}`);
    }
  } finally {
    child.kill("SIGTERM");
  }
});

it("resumes after a kill and ends with the same results as an uninterrupted run", {
  timeout: 240_000,
}, async () => {
  const dir = join(work, "killed");
  // One seed, in this process: its results equal the parallel run's seed 1.
  const child = spawn(process.execPath, [CLI, "run", "--scale", "tiny", "--seeds", "1", "--run-dir", dir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: ONE_THREAD,
  });
  let stderr = "";
  await new Promise<void>((resolve) => {
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      stderr += s;
      // Kill inside the ladder: some stages are finished, one PPO run is under way.
      if (/ppo-ladder-genrm-gt: every prompt/.test(stderr)) child.kill("SIGKILL");
    });
    child.on("close", () => resolve());
  });
  assert.match(stderr, /ppo-ladder-genrm-gt/);
  assert.ok(!existsSync(join(dir, "results.json")), "the killed run had not finished");
  const r = runCli(["--scale", "tiny", "--seeds", "1", "--run-dir", dir], ONE_THREAD);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sft: done earlier \(resumed\)/);
  assert.match(r.stderr, /ppo-ladder-rtv: done earlier \(resumed\)/);
  assert.deepEqual(
    comparable(join(dir, "seed-1", "results.json")),
    comparable(join(straight, "seed-1", "results.json")),
  );
  // A recorded stage result is parsed by the stage's schema on resume: damage names the stage and field.
  const statePath = join(dir, "seed-1", "state.json");
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  state.done.bt.accuracy = "high";
  writeFileSync(statePath, JSON.stringify(state));
  const damaged = runCli(["--scale", "tiny", "--seeds", "1", "--run-dir", dir]);
  assert.equal(damaged.status, 1);
  assert.match(damaged.stderr, /state\.json: done\.bt: accuracy/);
});

/** PIDs of the processes whose command line holds `needle` (Linux /proc). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").includes(needle))
        out.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return out;
}

it("a parallel run's seed processes end when the run is killed, and the rerun resumes", {
  timeout: 240_000,
  skip: process.platform !== "linux" && "reads /proc",
}, async () => {
  const dir = join(work, "killed-parallel");
  // A long SFT stage: the seeds write nothing for seconds, so an orphan is not stopped by a
  // failed write to its dead parent's pipe — only by noticing the parent is gone.
  const config = join(work, "long-sft.json");
  writeFileSync(config, JSON.stringify({ sft: { steps: 3000 } }));
  const args = ["--scale", "tiny", "--seeds", "2", "--parallel", "2", "--run-dir", dir, "--config", config];
  const parent = spawn(process.execPath, [CLI, "run", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: ONE_THREAD,
  });
  let stderr = "";
  await new Promise<void>((resolve) => {
    parent.stderr.setEncoding("utf8");
    parent.stderr.on("data", (s: string) => {
      stderr += s;
      if (/\[seed 1\] .*sft: supervised/.test(stderr) && /\[seed 2\] .*sft: supervised/.test(stderr))
        resolve();
    });
  });
  // Every process naming the run directory is a seed process (or the parent, killed now).
  assert.ok(processesWith(join(dir, "seed-")).length > 0, "the seed processes run");
  parent.kill("SIGKILL");
  const t0 = Date.now();
  while (processesWith(dir).length > 0 && Date.now() - t0 < 2_000)
    await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(processesWith(dir), [], "no seed process outlives its run by more than 2 s");
  const r = runCli(args, ONE_THREAD);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[seed 2\] .*world: done earlier \(resumed\)/);
  assert.ok(existsSync(join(dir, "results.json")));
});

it("refuses a run directory started with another configuration, and bad configs name the field", () => {
  const bad = join(work, "bad.json");
  writeFileSync(bad, JSON.stringify({ ppo: { steps: -1 } }));
  const r = runCli(["--scale", "tiny", "--run-dir", join(work, "x"), "--config", bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.json: ppo\.steps/);
  const other = join(work, "other.json");
  writeFileSync(other, JSON.stringify({ keep: 0.5 }));
  const refused = runCli(["--scale", "tiny", "--run-dir", straight, "--config", other]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /different configuration/);
  const scale = runCli(["--scale", "huge"]);
  assert.equal(scale.status, 2);
  assert.match(scale.stderr, /unknown --scale 'huge'/);
  const seeds = runCli(["--scale", "tiny", "--seeds", "0"]);
  assert.equal(seeds.status, 2);
  assert.match(seeds.stderr, /--seeds must be an integer ≥ 1/);
});
