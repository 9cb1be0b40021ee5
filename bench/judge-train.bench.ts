// npm run bench:judge-train — one training step of each judge at the main job's judge shape
// (dim 64, 3 layers, 4 heads, byte vocabulary 259) on token lengths measured from its real
// batches (bench/fixtures/judge-lengths.json), side by side with the step as the trainers
// took it before (the baseline, same run, same weights and lengths):
//   bt      32 preference pairs. Ours: pairs in micro-batches of similar width, no LM head
//           (train/rm.ts pairGrads). Baseline: all 64 sequences padded to the longest, the
//           LM head run over every position though a reward model reads none.
//   genrm   32 YES/NO judgements. Ours: train/sft.ts accumulateGrads, the LM head on the
//           answer's positions only. Baseline: the same width buckets with the LM head and
//           the cross-entropy over every position.
// Prints medians (ms), baseline ÷ ours, and ends with ONE JSON line.
//   BENCH_KERNEL=ts|wasm|blas (default: the trainers' choice)   BENCH_ITER=N (default 30)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { Decoder } from "../src/model/decoder.ts";
import { selectKernel } from "../src/model/kernels/index.ts";
import { type Encoded, padBlock, widthBuckets } from "../src/train/data.ts";
import { pairGrads } from "../src/train/rm.ts";
import { accumulateGrads, maskedCrossEntropy } from "../src/train/sft.ts";

const ITER = Number(process.env["BENCH_ITER"] ?? 30);
const Lengths = z.object({
  source: z.string(),
  bt: z.array(z.array(z.number().int().positive())),
  genrm: z.array(z.array(z.number().int().positive())),
});
const fixture = fileURLToPath(new URL("./fixtures/judge-lengths.json", import.meta.url));
const lengths = Lengths.parse(JSON.parse(readFileSync(fixture, "utf8")));
const kernel = selectKernel(process.env["BENCH_KERNEL"], { threads: 1 });
const shape = { vocabSize: 259, dim: 64, nLayers: 3, nHeads: 4, maxSeqLen: 128 };
const bt = new Decoder({ ...shape, rewardHead: true }, kernel, { seed: 1 });
const genrm = new Decoder(shape, kernel, { seed: 1 });
const PAD = 257;

/** Deterministic token ids of a given length (the cost does not depend on their values). */
const tokens = (n: number, salt: number) => Array.from({ length: n }, (_, i) => (i * 31 + salt * 7) % 256);

/** The BT step as trainRewardModel took it before: one block padded to the longest, full LM head. */
function btBaseline(seqs: readonly number[][]): void {
  const T = Math.max(...seqs.map((q) => q.length));
  const ids = new Int32Array(seqs.length * T).fill(PAD);
  seqs.forEach((q, b) => {
    ids.set(q, b * T);
  });
  bt.zeroGrad();
  const r = bt.forward(ids, seqs.length, T).rewards!;
  const d = new Float32Array(seqs.length * T);
  const B = seqs.length / 2;
  for (let i = 0; i < B; i++) {
    const [c, j] = [i * T + seqs[i]!.length - 1, (B + i) * T + seqs[B + i]!.length - 1];
    const g = -1 / (1 + Math.exp(r[c]! - r[j]!));
    d[c] = g / B;
    d[j] = -g / B;
  }
  bt.backward(undefined, undefined, d);
}

function btOurs(seqs: readonly number[][]): void {
  bt.zeroGrad();
  pairGrads(bt, seqs, PAD);
}

/** A judgement: the question, then the answer and EOS as the loss positions. */
const judgement = (n: number, salt: number): Encoded => {
  const loss = new Uint8Array(n);
  loss.fill(1, n - 3);
  return { ids: tokens(n, salt), loss };
};

/** The GenRM step as accumulateGrads took it before: the LM head over every position. */
function genrmBaseline(batch: readonly Encoded[]): void {
  genrm.zeroGrad();
  let count = 0;
  for (const e of batch) for (let t = 1; t < e.ids.length; t++) count += e.loss[t]!;
  const widths = batch.map((e) => e.ids.length - 1);
  for (const rows of widthBuckets(widths, [...batch.keys()], batch.length)) {
    const block = padBlock(
      rows.map((r) => batch[r]!),
      PAD,
    );
    const out = genrm.forward(block.inputs, block.batch, block.T);
    const dLogits = new Float32Array(out.logits.length);
    maskedCrossEntropy(dLogits, out.logits, block, genrm.vocabSize, count);
    genrm.backward(dLogits);
  }
}

function genrmOurs(batch: readonly Encoded[]): void {
  accumulateGrads(genrm, batch, PAD);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Medians of ITER steps after two warm-ups, baseline and ours interleaved so drift hits both. */
function sideBySide<I>(inputs: readonly I[], base: (x: I) => void, ours: (x: I) => void): [number, number] {
  const [tb, to]: [number[], number[]] = [[], []];
  for (let i = -2; i < ITER; i++) {
    const x = inputs[(i + 2) % inputs.length]!;
    for (const [fn, out] of [
      [base, tb],
      [ours, to],
    ] as const) {
      const t = performance.now();
      fn(x);
      if (i >= 0) out.push(performance.now() - t);
    }
  }
  return [median(tb), median(to)];
}

const btInputs = lengths.bt.map((ls, s) => ls.map((n, i) => tokens(n, s * 64 + (i % (ls.length / 2)))));
const genrmInputs = lengths.genrm.map((ls, s) => ls.map((n, i) => judgement(n, s * 32 + i)));
const [btBase, btNew] = sideBySide(btInputs, btBaseline, btOurs);
const [gBase, gNew] = sideBySide(genrmInputs, genrmBaseline, genrmOurs);
const line = (name: string, base: number, ours: number) =>
  `${name.padEnd(6)} baseline ${base.toFixed(1)} ms   ours ${ours.toFixed(1)} ms   baseline ÷ ours ${(base / ours).toFixed(2)}×\n`;
process.stdout.write(
  `kernel ${kernel.name}, 1 thread, median of ${ITER} steps; lengths: ${lengths.source}\n`,
);
process.stdout.write(line("bt", btBase, btNew));
process.stdout.write(line("genrm", gBase, gNew));
process.stdout.write(
  `${JSON.stringify({
    kernel: kernel.name,
    bt_baseline_ms: btBase,
    bt_ms: btNew,
    bt_speedup: btBase / btNew,
    genrm_baseline_ms: gBase,
    genrm_ms: gNew,
    genrm_speedup: gBase / gNew,
  })}\n`,
);
