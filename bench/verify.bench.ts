// npm run bench:verify — rewards per second per task family through the `logic` verifier,
// and for instruction following (IFEval checks on the bundled examples):
//   in-process   the verifier called directly on parsed rollouts, one thread;
//   naive        the same check reached the way a one-line-at-a-time script does it: each
//                rollout JSON-serialised and re-parsed, then zod-validated as a Rollout
//                before verifying (the per-call boundary cost, measured honestly on the
//                same rollouts);
//   pool×1/×N    VerifyPool worker threads, one and all cores (includes structured cloning);
//   exec         code_output only: knowing the output by running the program in python3
//                per rollout (what checking by execution costs even before a sandbox) —
//                the alternative our own AST evaluator avoids.
// Half of each family's rollouts are correct answers in <answer> tags, half perturbed.
// Ends with ONE JSON line holding every figure.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Rollout } from "../src/core/schemas.ts";
import { FAMILIES } from "../src/tasks/index.ts";
import { findPunktDir } from "../src/verify/instruct/compat/punkt.ts";
import { createInstructionVerifier } from "../src/verify/instruct/verifier.ts";
import { createLogicVerifier } from "../src/verify/logic/index.ts";
import { VerifyPool } from "../src/verify/pool.ts";

const PER_FAMILY = Number(process.env["BENCH_N"] ?? 2000);
const MIN_SECONDS = 0.25;
const verifier = createLogicVerifier();

function rolloutsFor(familyIndex: number): Rollout[] {
  const f = FAMILIES[familyIndex];
  if (f === undefined) throw new Error("no family");
  const out: Rollout[] = [];
  for (let i = 0; i < PER_FAMILY; i++) {
    const t = f.generate(i, (i % 11) * 1);
    const answer = i % 2 === 0 ? String(t.reference?.answer) : (f.wrongAnswers(t.reference, i)[0] ?? "?");
    out.push({ ...t, domain: "logic", response: `<think>checking</think><answer>${answer}</answer>` });
  }
  return out;
}

/** Calls per second of `fn` over `items`, median of three timed passes of at least MIN_SECONDS. */
function rate(items: readonly Rollout[], fn: (r: Rollout) => { score: number }): number {
  const rates: number[] = [];
  // Scores are summed and checked so no work can be optimised away.
  let sum = 0;
  for (let rep = 0; rep < 3; rep++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      for (const r of items) sum += fn(r).score;
      n += items.length;
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < MIN_SECONDS);
    rates.push(n / elapsed);
  }
  if (!(sum > 0)) throw new Error("no correct rewards: the benchmark is not measuring checks");
  rates.sort((a, b) => a - b);
  return rates[1] as number;
}

const direct = (r: Rollout): { score: number } => verifier.verify(r) as { score: number };
const naive = (r: Rollout): { score: number } => direct(Rollout.parse(JSON.parse(JSON.stringify(r))));

function execRate(items: readonly Rollout[], n: number): number {
  const t0 = performance.now();
  for (const r of items.slice(0, n)) {
    const program = String(r.reference?.["program"]);
    const p = spawnSync("python3", ["-c", program], { encoding: "utf8" });
    if (p.status !== 0) throw new Error(`python3 failed: ${p.stderr}`);
    void (p.stdout.trimEnd() === String(r.reference?.answer));
  }
  return n / ((performance.now() - t0) / 1000);
}

const fmt = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(1));

async function main(): Promise<void> {
  const cores = availableParallelism();
  const pool = new VerifyPool({ workers: cores, batchSize: 256 });
  const pool1 = new VerifyPool({ workers: 1, batchSize: 256 });
  await Promise.all([pool.ready(), pool1.ready()]);
  const poolRate = async (p: VerifyPool, rollouts: Rollout[]): Promise<number> => {
    await p.verify(rollouts.slice(0, 256));
    const t0 = performance.now();
    const rewards = await p.verify(rollouts);
    const r = rollouts.length / ((performance.now() - t0) / 1000);
    const correct = rewards.filter((w) => w.verdict === "correct").length;
    if (correct !== rollouts.length / 2)
      throw new Error(`${correct} correct of ${rollouts.length}, expected half`);
    return r;
  };
  const results: Record<string, Record<string, number>> = {};
  console.log(`bench:verify — ${PER_FAMILY} rollouts per family, ${cores} cores; rewards/s (median of 3)`);
  console.log(
    `${"family".padEnd(20)} ${"in-process".padStart(10)} ${"naive".padStart(9)} ${"ratio".padStart(6)} ${"pool×1".padStart(9)} ${`pool×${cores}`.padStart(9)}`,
  );
  let allSingle = 0;
  let allNaive = 0;
  let allPool = 0;
  let allPool1 = 0;
  let totalN = 0;
  for (let i = 0; i < FAMILIES.length; i++) {
    const name = (FAMILIES[i] as { name: string }).name;
    const rollouts = rolloutsFor(i);
    // Warm up the JIT on this family's checker before timing.
    for (const r of rollouts.slice(0, 200)) verifier.verify(r);
    const single = rate(rollouts, direct);
    const slow = rate(rollouts, naive);
    const big = [...rollouts, ...rollouts, ...rollouts, ...rollouts];
    const one = await poolRate(pool1, big);
    const all = await poolRate(pool, big);
    results[name] = {
      single: Math.round(single),
      naive: Math.round(slow),
      ratio: +(single / slow).toFixed(2),
      pool1: Math.round(one),
      pool: Math.round(all),
    };
    allSingle += PER_FAMILY / single;
    allNaive += PER_FAMILY / slow;
    allPool1 += PER_FAMILY / one;
    allPool += PER_FAMILY / all;
    totalN += PER_FAMILY;
    console.log(
      `${name.padEnd(20)} ${fmt(single).padStart(10)} ${fmt(slow).padStart(9)} ${(single / slow).toFixed(2).padStart(6)} ${fmt(one).padStart(9)} ${fmt(all).padStart(9)}`,
    );
  }
  // Instruction following (IFEval checks) on the bundled example rollouts, replicated.
  const ifVerifier = createInstructionVerifier();
  const ifExamples = readFileSync(new URL("../examples/instruction-rollouts.jsonl", import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((l) => Rollout.parse(JSON.parse(l)));
  const ifRollouts = Array.from({ length: PER_FAMILY }, (_, i) => ({
    ...(ifExamples[i % ifExamples.length] as Rollout),
    id: i,
  }));
  const ifDirect = (r: Rollout): { score: number } => ifVerifier.verify(r) as { score: number };
  for (const r of ifRollouts.slice(0, 200)) ifDirect(r);
  const ifSingle = rate(ifRollouts, ifDirect);
  const ifNaive = rate(ifRollouts, (r) => ifDirect(Rollout.parse(JSON.parse(JSON.stringify(r)))));
  const ifBig = [...ifRollouts, ...ifRollouts];
  const timePool = async (p: VerifyPool): Promise<number> => {
    // One warm-up batch per worker: loading the language-ID tables costs ~1 s per worker.
    await p.verify(ifRollouts.slice(0, 256 * p.size));
    const t0 = performance.now();
    await p.verify(ifBig);
    return ifBig.length / ((performance.now() - t0) / 1000);
  };
  const ifPool1 = await timePool(pool1);
  const ifPool = await timePool(pool);
  results["instruction (IFEval)"] = {
    single: Math.round(ifSingle),
    naive: Math.round(ifNaive),
    ratio: +(ifSingle / ifNaive).toFixed(2),
    pool1: Math.round(ifPool1),
    pool: Math.round(ifPool),
  };
  console.log(
    `${"instruction (IFEval)".padEnd(20)} ${fmt(ifSingle).padStart(10)} ${fmt(ifNaive).padStart(9)} ${(ifSingle / ifNaive).toFixed(2).padStart(6)} ${fmt(ifPool1).padStart(9)} ${fmt(ifPool).padStart(9)}`,
  );
  // The same rollouts judged with IFEval's reference semantics (reference.compat), when
  // nltk's Punkt data is installed (compat mode needs it for sentence counts).
  if (findPunktDir() !== undefined) {
    const compatRollouts = ifRollouts.map((r) => ({
      ...r,
      reference: { ...r.reference, compat: "ifeval" as const },
    }));
    for (const r of compatRollouts.slice(0, 200)) ifDirect(r);
    const ifCompat = rate(compatRollouts, ifDirect);
    results["instruction (IFEval compat)"] = { single: Math.round(ifCompat) };
    console.log(`${"instruction (compat)".padEnd(20)} ${fmt(ifCompat).padStart(10)}`);
  } else console.log("instruction (compat): skipped, nltk's punkt_tab/english not found (NLTK_DATA)");
  await Promise.all([pool.close(), pool1.close()]);
  const mix = {
    single: Math.round(totalN / allSingle),
    naive: Math.round(totalN / allNaive),
    pool1: Math.round(totalN / allPool1),
    pool: Math.round(totalN / allPool),
  };
  console.log(
    `${"all (equal mix)".padEnd(20)} ${fmt(mix.single).padStart(10)} ${fmt(mix.naive).padStart(9)} ${(mix.single / mix.naive).toFixed(2).padStart(6)} ${fmt(mix.pool1).padStart(9)} ${fmt(mix.pool).padStart(9)}`,
  );

  let exec: Record<string, number> | undefined;
  const py = spawnSync("python3", ["-c", "print(1)"], { encoding: "utf8" });
  if (py.status === 0) {
    const idx = FAMILIES.findIndex((f) => f.name === "code_output");
    const rollouts = rolloutsFor(idx);
    const spawnRate = execRate(rollouts, 40);
    const ours = results["code_output"]?.["single"] ?? 0;
    exec = {
      python3_spawn_per_rollout: +spawnRate.toFixed(1),
      ast_evaluator: ours,
      ratio: Math.round(ours / spawnRate),
    };
    console.log(
      `code_output by execution (python3 spawn per rollout): ${spawnRate.toFixed(1)}/s vs ${fmt(ours)}/s in-process (${exec["ratio"]}x)`,
    );
  } else {
    console.log("python3 not found: exec baseline skipped");
  }
  console.log(
    JSON.stringify({
      bench: "verify",
      unit: "rewards_per_second",
      cores,
      per_family: PER_FAMILY,
      families: results,
      mix,
      exec_baseline: exec ?? null,
    }),
  );
}

await main();
