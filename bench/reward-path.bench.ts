// npm run bench:reward-path — the reward of one PPO step of the main job (8 prompts × 8
// rollouts, every prompt of the world's 7 families), scored two ways on the same judge
// models (the small scale's shape: dim 64, 2 layers, 4 heads, byte vocabulary):
//   shared   the main job's path since issue 13: the seed's reward.yaml through
//            reward/system.ts — the router, the verifier pool, GenRM and BT from judge/
//            over the EmbeddedBackend (one batched call per judge and reference kind)
//   direct   the baseline, the path it replaced (experiment/rewards.ts before issue 13):
//            a router keyed on the domain, the logic verifier in-process, GenRM as
//            model.logits on train/rm.ts's judge prompt in chunks of 32, BT as reward-head
//            forwards in chunks of 32
// For the hybrid reward (what the comparison runs train on) and GenRM-GT alone (the ladder's
// heaviest judge run), with PPO-like rollouts (8 samples of a prompt, of which several
// agree) and with all-distinct rollouts. Medians over ITER reps after a warm-up; the ratio
// direct/shared is printed (> 1: shared is faster). Ends with ONE JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Reward, RewardFn, Rollout } from "../src/core/schemas.ts";
import { saveWorldModel } from "../src/experiment/judge-models.ts";
import { openSeedRewards, rewardPaths, writeRewardConfigs } from "../src/experiment/reward-config.ts";
import { buildWorld, goldAnswer, goldRewardFn, nearMisses, SEVEN_FAMILIES } from "../src/experiment/world.ts";
import type { Decoder } from "../src/model/decoder.ts";
import { createKernel, parseKernelName } from "../src/model/kernels/index.ts";
import { Rng } from "../src/model/rng.ts";
import { byteTokenizer, newDecoder } from "../src/train/models.ts";
import { genrmScores, rewardScores } from "../src/train/rm.ts";

const ITER = Number(process.env["BENCH_ITER"] ?? 15);
const kernel = createKernel(parseKernelName(process.env["BENCH_KERNEL"] ?? "wasm", "BENCH_KERNEL"));
const tokenizer = byteTokenizer();
const shape = { vocabSize: tokenizer.vocabSize, dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 128 };

const dir = mkdtempSync(join(tmpdir(), "bench-reward-path-"));
const genrm = newDecoder(shape, 3, kernel);
const bt = newDecoder({ ...shape, rewardHead: true }, 4, kernel);
for (const w of [genrm.params, bt.params])
  for (let i = 0; i < w.length; i++) w[i] = w[i]! + 0.02 * Math.sin(i * 0.37);
const paths = rewardPaths(dir);
await saveWorldModel(paths.genrmModel, genrm);
await saveWorldModel(paths.btModel, bt);
await writeRewardConfigs(dir, SEVEN_FAMILIES);

/** 8 prompts × 8 rollouts over the world's families; `agree` of the 8 samples repeat an answer. */
function step(seed: number, distinct: boolean): Rollout[] {
  const tasks = buildWorld({
    seed,
    world: [...SEVEN_FAMILIES],
    sizes: { demo: 1, preference: 1, original: 2, pool: 1, eval: 1, diversityPrompts: 1 },
  }).original;
  const rng = new Rng(seed);
  const out: Rollout[] = [];
  // 8 prompts spread over the 7 families (2 per family in the set: take every other one, and one more).
  for (const t of [...tasks.filter((_, i) => i % 2 === 0), tasks[1]!].slice(0, 8)) {
    const truth = goldAnswer(t);
    const options = [truth, ...nearMisses(truth, String(t.id)), `${truth}0`];
    for (let k = 0; k < 8; k++) {
      const response = distinct ? `${truth}${k}` : options[Math.floor(rng.next() * options.length)]!;
      out.push({
        ...t,
        id: `${t.id}#${k}`,
        response,
        reference: { ...t.reference, response: options[1] ?? truth },
      });
    }
  }
  return out;
}

/** The replaced path: experiment/rewards.ts as it was before issue 13. */
function directFns(g: Decoder, b: Decoder): { hybrid: RewardFn; gt: RewardFn } {
  const gold = goldRewardFn();
  const judged = (r: Rollout, source: string, score: number): Reward => ({
    id: r.id,
    score,
    verdict: score >= 0.5 ? "correct" : "incorrect",
    source,
  });
  const genrmFn =
    (source: "genrm-gt" | "genrm-bon"): RewardFn =>
    async (rs) => {
      const refs = rs.map((r) =>
        source === "genrm-gt" ? goldAnswer(r) : String(r.reference?.response ?? ""),
      );
      const s = await genrmScores(
        g,
        tokenizer,
        rs.map((r, i) => ({ prompt: r.prompt ?? "", response: r.response, reference: refs[i]! })),
      );
      return rs.map((r, i) => judged(r, source, s[i]!));
    };
  const fns: Record<string, RewardFn> = {
    rtv: gold,
    "genrm-gt": genrmFn("genrm-gt"),
    "genrm-bon": genrmFn("genrm-bon"),
    bt: async (rs) => {
      const raw = rewardScores(
        b,
        tokenizer,
        rs.map((r) => ({ prompt: r.prompt ?? "", response: r.response })),
      );
      return rs.map((r, i) => judged(r, "bt", 1 / (1 + Math.exp(-raw[i]!))));
    },
  };
  const sourceOf = (domain: string) => SEVEN_FAMILIES.find((f) => f.domain === domain)?.reward ?? "genrm-bon";
  const hybrid: RewardFn = async (rs) => {
    const groups = new Map<string, number[]>();
    rs.forEach((r, i) => {
      groups.set(sourceOf(r.domain), [...(groups.get(sourceOf(r.domain)) ?? []), i]);
    });
    const out: Reward[] = new Array(rs.length);
    for (const [source, idx] of groups) {
      const rewards = await fns[source]!(idx.map((i) => rs[i]!));
      idx.forEach((i, j) => {
        out[i] = rewards[j]!;
      });
    }
    return out;
  };
  return { hybrid, gt: fns["genrm-gt"]! };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median ms of each function over ITER reps after a warm-up, the two alternated rep by rep (load drift hits both). */
async function timePair(a: RewardFn, b: RewardFn, batches: Rollout[][]): Promise<[number, number]> {
  await a(batches[0]!);
  await b(batches[0]!);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < ITER; i++) {
    const batch = batches[(i + 1) % batches.length]!;
    for (const [fn, out] of (i % 2 === 0
      ? [
          [a, ta],
          [b, tb],
        ]
      : [
          [b, tb],
          [a, ta],
        ]) as [RewardFn, number[]][]) {
      const t0 = performance.now();
      await fn(batch);
      out.push(performance.now() - t0);
    }
  }
  return [median(ta), median(tb)];
}

const shared = await openSeedRewards(dir, kernel);
const direct = directFns(genrm, bt);
const rows: { case: string; shared: number; direct: number; ratio: number }[] = [];
for (const distinct of [false, true]) {
  const batches = [1, 2, 3].map((s) => step(s, distinct));
  for (const [name, s, d] of [
    ["hybrid", shared.hybrid, direct.hybrid],
    ["genrm-gt", shared.bySource["genrm-gt"], direct.gt],
  ] as const) {
    const [sharedMs, directMs] = await timePair(s, d, batches);
    const row = {
      case: `${name}, ${distinct ? "distinct" : "ppo-like"}`,
      shared: sharedMs,
      direct: directMs,
      ratio: directMs / sharedMs,
    };
    rows.push(row);
    process.stdout.write(
      `${row.case.padEnd(22)} shared ${row.shared.toFixed(1).padStart(7)} ms   direct ${row.direct.toFixed(1).padStart(7)} ms   direct/shared ×${row.ratio.toFixed(2)}\n`,
    );
  }
}
await shared.close();
kernel.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ bench: "reward-path", rollouts: 64, kernel: kernel.name, iter: ITER, rows })}\n`,
);
