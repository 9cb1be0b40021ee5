import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { exactMatchReward } from "../../src/select/rewards.ts";
import { selectPrompts } from "../../src/select/select.ts";
import type { SelectOptions } from "../../src/select/types.ts";
import { scoreReward } from "./fixtures/score-reward.ts";

const root = await mkdtemp(join(tmpdir(), "ds-select-"));
after(() => rm(root, { recursive: true, force: true }));
let dirN = 0;
const fresh = (): string => join(root, `case${dirN++}`);

interface Rec {
  id: string;
  domain: string;
  prompt: string;
  responses?: string[];
  reference?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

/** K responses whose scores average to `mean` (spread ±d keeps the variance known). */
function responses(mean: number, d = 0.05): string[] {
  return [mean - d, mean + d, mean - d, mean + d].map((x) => String(x));
}

async function writeJsonl(path: string, recs: readonly unknown[]): Promise<void> {
  await writeFile(path, recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

async function readOut(path: string): Promise<Rec[]> {
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Rec);
}

function options(dir: string, pool: string, extra: Partial<SelectOptions> = {}): SelectOptions {
  return {
    pool,
    out: join(dir, "out.jsonl"),
    runDir: join(dir, "run"),
    resume: false,
    reward: scoreReward,
    samples: 4,
    keep: 0.1,
    normalisation: "zscore",
    unfiltered: ["math", "code"],
    ...extra,
  };
}

/**
 * A pool where the judge is lenient on `chat` (scores 0.6–1.0) and harsh on `writing`
 * (0.0–0.4): the same difficulty looks like very different raw scores per domain.
 */
function shiftedPool(n: number): { recs: Rec[]; score: Map<string, number> } {
  const recs: Rec[] = [];
  const score = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    // Interleave and permute so that pool order says nothing about score.
    const j = (i * 37) % n;
    const chat = 0.6 + (0.4 * (j + 0.25)) / n;
    const writing = (0.4 * (j + 0.75)) / n;
    recs.push({ id: `c${i}`, domain: "chat", prompt: `chat ${i}`, responses: responses(chat) });
    recs.push({ id: `w${i}`, domain: "writing", prompt: `write ${i}`, responses: responses(writing) });
    score.set(`c${i}`, chat);
    score.set(`w${i}`, writing);
  }
  return { recs, score };
}

function keptOf(out: Rec[], domain: string): Rec[] {
  return out.filter(
    (r) => r.domain === domain && (r.meta?.selection as { status?: string })?.status === "selected",
  );
}

/** Per domain: about `keep` of it is kept, and every kept prompt scores below every dropped one. */
function assertPerDomainLowest(out: Rec[], pool: Rec[], score: Map<string, number>, keep: number): void {
  for (const domain of ["chat", "writing"]) {
    const all = pool.filter((r) => r.domain === domain);
    const kept = new Set(keptOf(out, domain).map((r) => r.id));
    const expected = keep * all.length;
    assert.ok(Math.abs(kept.size - expected) <= 1, `${domain}: kept ${kept.size}, expected ≈${expected}`);
    const maxKept = Math.max(...[...kept].map((id) => score.get(id)!));
    const minDropped = Math.min(...all.filter((r) => !kept.has(r.id)).map((r) => score.get(r.id)!));
    assert.ok(maxKept < minDropped, `${domain}: kept up to ${maxKept} but dropped ${minDropped}`);
  }
}

test("per-domain normalisation keeps the lowest 10% of each domain; without it one domain takes all", async () => {
  const dir = fresh();
  await writeFile(join(root, "x"), "");
  const { recs, score } = shiftedPool(100);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, recs);

  for (const normalisation of ["zscore", "rank"] as const) {
    const o = options(dir, pool, {
      normalisation,
      out: join(dir, `${normalisation}.jsonl`),
      runDir: join(dir, normalisation),
    });
    const res = await selectPrompts(o);
    assert.equal(res.report.kept, 20);
    const out = await readOut(o.out);
    assertPerDomainLowest(out, recs, score, 0.1);
    const ev = keptOf(out, "chat")[0]!.meta!.selection as Record<string, unknown>;
    assert.equal(ev.normalisation, normalisation);
    assert.equal(ev.samples, 4);
    assert.ok(Math.abs((ev.mean as number) - score.get(keptOf(out, "chat")[0]!.id)!) < 1e-12);
    assert.ok(Math.abs((ev.variance as number) - 0.0025) < 1e-12);
    assert.equal(out[0]!.responses, undefined, "responses are not copied into the selection");
  }

  // The same check on raw scores fails: every kept prompt comes from the harsh domain.
  const o = options(dir, pool, {
    normalisation: "none",
    out: join(dir, "none.jsonl"),
    runDir: join(dir, "none"),
  });
  await selectPrompts(o);
  const out = await readOut(o.out);
  assert.equal(keptOf(out, "chat").length, 0);
  assert.equal(keptOf(out, "writing").length, 20);
  assert.throws(() => assertPerDomainLowest(out, recs, score, 0.1));
});

test("unfiltered domains pass through unscored, the original set comes first, evidence in meta", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const { recs } = shiftedPool(20);
  const math: Rec[] = Array.from({ length: 5 }, (_, i) => ({
    id: `m${i}`,
    domain: "math",
    prompt: `${i}+1?`,
    reference: { answer: String(i + 1) },
    meta: { src: "gsm" },
  }));
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(
    pool,
    [...math.slice(0, 2), ...recs, "{broken", ...math.slice(2)].map((r) => r),
  );
  // A bad line in the middle is reported and the stream goes on.
  const text = (await readFile(pool, "utf8")).replace('"{broken"', "{broken");
  await writeFile(pool, text);
  const original = join(dir, "orig.jsonl");
  await writeJsonl(original, [{ id: "o1", domain: "general", prompt: "hello" }]);
  const logs: string[] = [];
  const res = await selectPrompts(options(dir, pool, { original, log: (l) => logs.push(l) }));
  const out = await readOut(join(dir, "out.jsonl"));
  assert.equal(out[0]!.id, "o1");
  assert.deepEqual(out[0]!.meta, { selection: { origin: "original" } });
  const passed = out.filter((r) => r.domain === "math");
  assert.deepEqual(
    passed.map((r) => r.id),
    math.map((r) => r.id),
  );
  assert.deepEqual(passed[0]!.meta, {
    src: "gsm",
    selection: { origin: "new", status: "passthrough", reason: "unfiltered domain" },
  });
  assert.equal(res.report.original, 1);
  assert.equal(res.report.kept, 5 + 4);
  assert.equal(res.report.badLines, 1);
  assert.ok(
    logs.some((l) => l.includes(`${pool}:43: invalid JSON`)),
    logs.join("\n"),
  );
  const md = await readFile(join(dir, "run", "report.md"), "utf8");
  assert.match(md, /\| math \(unfiltered\) \| 0 \| 0 \| 0 \| 5 \| 5 \|/);
  assert.match(md, /\| chat \| 20 \| 0 \| 0 \| 0 \| 2 \|/);
});

test("low-variance prompts are dropped; error verdicts are never selected and are reported", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const recs: Rec[] = [];
  for (let i = 0; i < 20; i++) {
    // Lowest scores but zero variance: too hard to learn from.
    recs.push({ id: `flat${i}`, domain: "chat", prompt: "p", responses: ["0", "0", "0", "0"] });
    recs.push({ id: `var${i}`, domain: "chat", prompt: "p", responses: responses(0.3 + i / 100, 0.2) });
  }
  recs.push({ id: "broken-judge", domain: "chat", prompt: "p", responses: ["0", "ERR", "0", "0"] });
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, recs);
  const logs: string[] = [];
  const res = await selectPrompts(
    options(dir, pool, { minVariance: 0.01, keep: 0.25, log: (l) => logs.push(l), normalisation: "rank" }),
  );
  const out = await readOut(join(dir, "out.jsonl"));
  assert.deepEqual(
    out.map((r) => r.id),
    ["var0", "var1", "var2", "var3", "var4"],
  );
  const chat = res.report.domains.find((d) => d.domain === "chat")!;
  assert.equal(chat.lowVariance, 20);
  assert.equal(chat.errors, 1);
  assert.ok(logs.some((l) => l.includes("broken-judge") && l.includes("judge down")));
});

test("ties at the cut are shared out to hit the target exactly and deterministically", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  // Binary exact-match rewards over 4 samples: means in {0, .25, .5, .75, 1}, heavy ties.
  const recs = Array.from({ length: 200 }, (_, i) => {
    const right = i % 5;
    return {
      id: i,
      domain: "qa",
      prompt: "q",
      reference: { answer: "yes" },
      responses: ["yes", "yes", "yes", "yes"].map((r, j) => (j < right ? r : "no")),
    };
  });
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, recs);
  const a = await selectPrompts(options(dir, pool, { reward: exactMatchReward, keep: 0.1, seed: 7 }));
  assert.equal(a.report.kept, 20);
  const outA = await readFile(join(dir, "out.jsonl"), "utf8");
  for (const r of await readOut(join(dir, "out.jsonl"))) {
    assert.equal((r.meta!.selection as { mean: number }).mean, 0);
  }
  await selectPrompts(options(dir, pool, { reward: exactMatchReward, keep: 0.1, seed: 7 }));
  assert.equal(await readFile(join(dir, "out.jsonl"), "utf8"), outA);
});

test("past the exact capacity the sketched cut is snapped to the data: same selection within one prompt", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const { recs, score } = shiftedPool(200);
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, recs);
  const res = await selectPrompts(options(dir, pool, { exactCapacity: 16 }));
  assert.equal(res.report.cut!.exact, false);
  assertPerDomainLowest(await readOut(join(dir, "out.jsonl")), recs, score, 0.1);

  // Discrete scores: the cut lands exactly on the tied value and the ties fill the target.
  const tied = Array.from({ length: 400 }, (_, i) => ({
    id: i,
    domain: "qa",
    prompt: "q",
    reference: { answer: "yes" },
    responses: ["yes", "yes", "yes", "yes"].map((r, j) => (j < i % 5 ? r : "no")),
  }));
  await writeJsonl(pool, tied);
  const t = await selectPrompts(options(dir, pool, { reward: exactMatchReward, exactCapacity: 16 }));
  assert.ok(Math.abs(t.report.kept - 40) <= 1, `kept ${t.report.kept}`);
  for (const r of await readOut(join(dir, "out.jsonl")))
    assert.equal((r.meta!.selection as { mean: number }).mean, 0);
});

test("a failing reward call stops the run; --resume scores from that batch on and matches a clean run", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, shiftedPool(50).recs);
  let calls = 0;
  const flaky: typeof scoreReward = async (rollouts) => {
    if (++calls === 5) throw new Error("judge unreachable");
    return scoreReward(rollouts);
  };
  const o = options(dir, pool, { reward: flaky, batchPrompts: 8, concurrency: 1 });
  await assert.rejects(
    selectPrompts(o),
    /pool\.jsonl:33–40: reward function failed: judge unreachable; rerun with --resume/,
  );
  const scored = (await readFile(join(dir, "run", "scores.jsonl"), "utf8")).trim().split("\n").length;
  assert.equal(scored, 32);
  await selectPrompts({ ...o, resume: true });
  const resumed = await readFile(o.out, "utf8");
  const clean = options(dir, pool, { out: join(dir, "clean.jsonl"), runDir: join(dir, "clean") });
  await selectPrompts(clean);
  assert.equal(resumed, await readFile(clean.out, "utf8"));
});

test("stopped, then resumed (statistics re-read from the log) gives the bytes of a fresh run (statistics built in pass 1), sketched cut and bad lines included", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  const recs = shiftedPool(150).recs.map((r, i) => (i % 3 === 0 ? { ...r, meta: { i } } : r));
  const lines = recs.map((r) => JSON.stringify(r));
  lines.splice(17, 0, "{not json");
  lines.splice(60, 0, JSON.stringify({ id: "no-prompt", domain: "chat" }));
  await writeFile(pool, `${lines.join("\n")}\n`);
  for (const normalisation of ["rank", "zscore"] as const) {
    const extra = { normalisation, exactCapacity: 16, minVariance: 0.001, seed: 3, batchPrompts: 8 };
    const stopped = options(dir, pool, { ...extra, runDir: join(dir, `s-${normalisation}`), stopAfter: 70 });
    const partial = await selectPrompts(stopped);
    assert.equal(partial.complete, false);
    const { stopAfter: _, ...rest } = stopped;
    const res = await selectPrompts({ ...rest, resume: true });
    assert.ok(res.resumed && res.complete);
    assert.equal(res.report.cut!.exact, false);
    assert.equal(res.report.badLines, 2);
    const resumed = await readFile(stopped.out, "utf8");
    const clean = options(dir, pool, {
      ...extra,
      out: join(dir, "clean.jsonl"),
      runDir: join(dir, `c-${normalisation}`),
    });
    const cleanRes = await selectPrompts(clean);
    assert.equal(resumed, await readFile(clean.out, "utf8"));
    assert.deepEqual(res.report, { ...cleanRes.report, out: stopped.out });
    assert.ok(res.report.kept > 0);
  }
});

test("a resumed run refuses a run directory that holds a different job", async () => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, shiftedPool(5).recs);
  await selectPrompts(options(dir, pool));
  await assert.rejects(selectPrompts(options(dir, pool, { resume: true, samples: 2 })), /different job/);
});

const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const rewardModule = fileURLToPath(new URL("./fixtures/score-reward.ts", import.meta.url));

function runCli(args: string[], env: Record<string, string>): { done: Promise<number>; kill: () => void } {
  const child = spawn(process.execPath, [cli, "select", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const done = new Promise<number>((res, rej) => {
    child.on("error", rej);
    child.on("close", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") rej(new Error(`select exited ${code}: ${err}`));
      else res(code ?? -1);
    });
  });
  return { done, kill: () => child.kill("SIGKILL") };
}

async function lineCount(path: string): Promise<number> {
  try {
    return (await readFile(path, "utf8")).split("\n").length - 1;
  } catch {
    return 0;
  }
}

test("SIGKILL mid-scoring, then --resume: same output as an uninterrupted run, nothing re-scored", async (t) => {
  const dir = fresh();
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const { recs } = shiftedPool(300);
  const math = Array.from({ length: 30 }, (_, i) => ({ id: `m${i}`, domain: "math", prompt: "x" }));
  const pool = join(dir, "pool.jsonl");
  await writeJsonl(pool, [...recs.slice(0, 300), ...math, ...recs.slice(300)]);
  const args = (out: string) => [
    "--pool",
    pool,
    "--out",
    out,
    "--reward",
    rewardModule,
    "--batch",
    "4",
    "--concurrency",
    "3",
    "--normalise",
    "rank",
  ];

  const whole = join(dir, "whole.jsonl");
  await runCli(args(whole), {}).done;

  const out = join(dir, "killed.jsonl");
  const calls = join(dir, "calls.txt");
  const env = { SLOW_REWARD_MS: "10", REWARD_CALLS_FILE: calls };
  const first = runCli(args(out), env);
  const scores = join(`${out}.run`, "scores.jsonl");
  const deadline = Date.now() + 30_000;
  // Kill once part of the pool is scored (the log flushes every 200 ms).
  while ((await lineCount(scores)) < 100 && Date.now() < deadline) await sleep(10);
  first.kill();
  await first.done;
  const scoredBefore = (await readFile(scores, "utf8"))
    .split("\n")
    .filter((l) => l.includes('"scored"')).length;
  assert.ok(scoredBefore > 0 && scoredBefore < 600, `killed after ${scoredBefore} scored prompts`);
  t.diagnostic(`killed after ${scoredBefore} of 600 prompts were scored`);
  await assert.rejects(stat(out), "no output is written before selection completes");

  await writeFile(calls, "");
  await runCli([...args(out), "--resume"], env).done;
  const rescored = (await readFile(calls, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .reduce((a, l) => a + Number(l), 0);
  assert.equal(rescored, (600 - scoredBefore) * 4, "the resumed run scores only the prompts not yet scored");
  assert.equal(await readFile(out, "utf8"), await readFile(whole, "utf8"));
});
