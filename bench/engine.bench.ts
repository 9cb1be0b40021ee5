// npm run bench:engine — train step, forward and KV-cached sampling of the decoder at the
// shape of ../shared/bench/torch_reference.py, side by side with that PyTorch script in the
// same sitting. Prints torch time ÷ ours (> 1 = we are faster), the AdamW step against a
// TypeScript loop (what the trainers ran before they used the kernel's), and ends with one JSON line.
// Then the judge shape (dim 64, 3 layers, 4 heads, head dim 16, vocab 259, T 64, batch 32, one
// thread, as the GenRM judges train): a train step and causal attention forward / backward on
// each kernel, the named baseline being the WASM kernel's attention, timed in the same run.
//   --kernels ts,wasm   kernels to measure (default: every available one but ts, which is
//                       ~10× slower; add it explicitly)   --threads N   --steps N
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Decoder } from "../src/model/decoder.ts";
import { availableKernels, createKernel, parseKernelName } from "../src/model/kernels/index.ts";
import { crossEntropyForwardBackward } from "../src/model/layers.ts";
import { AdamW } from "../src/model/optim.ts";
import { paramLayout } from "../src/model/params.ts";
import { Rng } from "../src/model/rng.ts";

const { values: args } = parseArgs({
  options: {
    kernels: { type: "string" },
    threads: { type: "string", default: "2" },
    steps: { type: "string", default: "10" },
  },
});
const threads = Number(args.threads);
const steps = Number(args.steps);
const shape = { layers: 4, dim: 256, heads: 4, vocab: 64, seq: 64, batch: 16, sampleTokens: 64 };
/** The GenRM judges' training shape (byte vocabulary; sequences padded to a bucket of 64). */
const judgeShape = { layers: 3, dim: 64, heads: 4, vocab: 259, seq: 64, batch: 32, threads: 1 };
/** Attention calls are ~1 ms: more repetitions than train steps. */
const attnReps = Math.max(51, steps * 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One training step (forward, full cross-entropy, backward, AdamW) of `m` on a fixed batch. */
function trainStep(m: Decoder, opt: AdamW, ids: Int32Array, targets: Int32Array, B: number, T: number) {
  const V = m.vocabSize;
  const dLogits = m.kernel.alloc(B * T * V);
  return () => {
    const out = m.forward(ids, B, T);
    crossEntropyForwardBackward(dLogits, out.logits, targets, undefined, B * T, V);
    m.zeroGrad();
    m.backward(dLogits);
    opt.step(m.params, m.grads);
  };
}

async function timed(fn: () => unknown, n: number): Promise<number> {
  await fn();
  await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

interface Figures {
  train_step_ms: number;
  forward_ms: number;
  sample_tokens_per_s: number;
  /** One AdamW update on the kernel, and the baseline: the same update as a TypeScript loop. */
  adamw_ms?: number;
  adamw_ts_loop_ms?: number;
}

/**
 * The baseline for the optimizer step: AdamW as the TypeScript loop the trainers ran before
 * they used the engine's (src/train/optimizer.ts until this branch), same arithmetic.
 */
function tsLoopAdamW(m: Decoder, lr: number, wd: number) {
  const n = m.params.length;
  const mo = new Float32Array(n);
  const v = new Float32Array(n);
  const decay = new Uint8Array(n);
  for (const e of paramLayout(m.config).entries)
    if (e.decay) decay.fill(1, e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  let t = 0;
  return () => {
    const p = m.params;
    const g = m.grads;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += g[i]! * g[i]!;
    const clip = Math.sqrt(ss) > 1 ? 1 / Math.sqrt(ss) : 1;
    t++;
    const bc1 = 1 - 0.9 ** t;
    const bc2 = 1 - 0.95 ** t;
    for (let i = 0; i < n; i++) {
      const gi = g[i]! * clip;
      const mi = 0.9 * mo[i]! + 0.1 * gi;
      const vi = 0.95 * v[i]! + 0.05 * gi * gi;
      mo[i] = mi;
      v[i] = vi;
      p[i] = p[i]! - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + 1e-8) + (decay[i] === 1 ? wd * p[i]! : 0));
    }
  };
}

function runTorch(): (Figures & { engine: string }) | string {
  // ../shared next to the repository; a git worktree may sit one level deeper.
  const candidates = [
    "../../shared/bench/torch_reference.py",
    "../../../shared/bench/torch_reference.py",
  ].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const script = candidates.find((p) => existsSync(p));
  if (script === undefined) return `torch_reference.py not found at ${candidates.join(" or ")}`;
  const python = "/usr/bin/python3";
  const cli = [
    "--layers",
    "4",
    "--dim",
    "256",
    "--heads",
    "4",
    "--vocab",
    "64",
    "--seq",
    "64",
    "--batch",
    "16",
  ];
  const r = spawnSync(python, [script, ...cli, "--threads", String(threads), "--steps", String(steps)], {
    encoding: "utf8",
  });
  if (r.status !== 0)
    return `torch reference failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`;
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Figures & { engine: string };
}

async function runOurs(name: string): Promise<Figures> {
  const kernel = createKernel(parseKernelName(name, "--kernels"), { threads });
  try {
    const m = new Decoder(
      {
        vocabSize: shape.vocab,
        dim: shape.dim,
        nLayers: shape.layers,
        nHeads: shape.heads,
        maxSeqLen: shape.seq,
      },
      kernel,
      { seed: 0 },
    );
    const rng = new Rng(0);
    const { batch: B, seq: T, vocab: V } = shape;
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V));
    const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V));
    const opt = new AdamW(m, { lr: 1e-3, weightDecay: 0.01, gradClip: 0 });
    const train_step_ms = await timed(trainStep(m, opt, ids, targets, B, T), steps);
    const forward_ms = await timed(() => m.forward(ids, B, T), steps);
    // The optimizer step alone (the last step's gradients): the kernel's fused AdamW, which
    // the trainers now use, against the TypeScript loop they used before.
    const adamw_ms = await timed(() => opt.step(m.params, m.grads, 1e-6), steps);
    const adamw_ts_loop_ms = await timed(tsLoopAdamW(m, 1e-6, 0.01), steps);
    const sample = async () => {
      const caches = Array.from({ length: B }, () => m.newCache());
      let tokens = Array.from({ length: B }, (_, b) => ids.subarray(b * T, b * T + 1));
      for (let t = 0; t < shape.sampleTokens; t++) {
        const logits = await m.step(caches, tokens);
        if (t === shape.sampleTokens - 1) break;
        tokens = tokens.map((_, b) => Int32Array.of(sampleRow(logits.subarray(b * V, (b + 1) * V), rng)));
      }
    };
    const sample_ms = await timed(sample, Math.max(3, Math.floor(steps / 3)));
    return {
      train_step_ms: round(train_step_ms),
      forward_ms: round(forward_ms),
      sample_tokens_per_s: round((B * shape.sampleTokens) / (sample_ms / 1000)),
      adamw_ms: round(adamw_ms),
      adamw_ts_loop_ms: round(adamw_ts_loop_ms),
    };
  } finally {
    kernel.close();
  }
}

interface JudgeFigures {
  train_step_ms: number;
  attn_fwd_ms: number;
  attn_bwd_ms: number;
}

/** The judge shape on one kernel: a whole train step, then attention alone on random inputs. */
async function runJudge(name: string): Promise<JudgeFigures> {
  const { layers, dim, heads, vocab: V, seq: T, batch: B } = judgeShape;
  const kernel = createKernel(parseKernelName(name, "--kernels"), { threads: judgeShape.threads });
  try {
    const m = new Decoder({ vocabSize: V, dim, nLayers: layers, nHeads: heads, maxSeqLen: T }, kernel, {
      seed: 0,
    });
    const rng = new Rng(1);
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V));
    const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V));
    const opt = new AdamW(m, { lr: 1e-3, weightDecay: 0.01, gradClip: 1 });
    const train_step_ms = await timed(trainStep(m, opt, ids, targets, B, T), steps);
    const p = { batch: B, T, heads, kvHeads: heads, headDim: dim / heads };
    const n = B * T * dim;
    const buf = (scale: number) => {
      const a = kernel.alloc(n);
      for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
      return a;
    };
    const [q, k, v, dout] = [buf(2), buf(2), buf(1), buf(1)];
    const [out, dq, dk, dv] = [buf(0), buf(0), buf(0), buf(0)];
    const probs = kernel.alloc(B * heads * T * T);
    const attn_fwd_ms = await timed(() => kernel.attentionForward(p, out, probs, q, k, v), attnReps);
    const attn_bwd_ms = await timed(
      () => kernel.attentionBackward(p, dq, dk, dv, dout, probs, q, k, v),
      attnReps,
    );
    return {
      train_step_ms: round(train_step_ms),
      attn_fwd_ms: round3(attn_fwd_ms),
      attn_bwd_ms: round3(attn_bwd_ms),
    };
  } finally {
    kernel.close();
  }
}

function sampleRow(logits: Float32Array, rng: Rng): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  let u = rng.next() * sum;
  for (let i = 0; i < logits.length; i++) {
    u -= Math.exp(logits[i]! - max);
    if (u <= 0) return i;
  }
  return logits.length - 1;
}

const round = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const names = args.kernels?.split(",") ?? availableKernels().filter((k) => k !== "ts");
const defaultKernel = availableKernels().at(-1)!;
// The machine is shared: the 1-minute load average before and after says how much the
// figures of this run were contended.
const loadBefore = round(loadavg()[0]!);
process.stdout.write(
  `shape ${JSON.stringify(shape)}, ${threads} threads, median of ${steps} steps, load ${loadBefore}\n`,
);
const torch = runTorch();
if (typeof torch === "string") process.stdout.write(`torch: skipped (${torch})\n`);
else
  process.stdout.write(
    `torch (${torch.engine}): train ${torch.train_step_ms} ms, forward ${torch.forward_ms} ms, sample ${torch.sample_tokens_per_s} tok/s\n`,
  );
const perKernel: Record<string, Figures & { train_ratio_vs_torch?: number; sample_ratio_vs_torch?: number }> =
  {};
for (const name of names) {
  const f = await runOurs(name);
  const row: (typeof perKernel)[string] = { ...f };
  let line = `${name}: train ${f.train_step_ms} ms, forward ${f.forward_ms} ms, sample ${f.sample_tokens_per_s} tok/s, AdamW ${f.adamw_ms} ms (TypeScript loop ${f.adamw_ts_loop_ms} ms: ×${round(f.adamw_ts_loop_ms! / f.adamw_ms!)})`;
  if (typeof torch !== "string") {
    row.train_ratio_vs_torch = round(torch.train_step_ms / f.train_step_ms);
    row.sample_ratio_vs_torch = round(f.sample_tokens_per_s / torch.sample_tokens_per_s);
    line += ` | vs torch: train ×${row.train_ratio_vs_torch}, forward ×${round(torch.forward_ms / f.forward_ms)}, sample ×${row.sample_ratio_vs_torch}`;
  }
  perKernel[name] = row;
  process.stdout.write(`${line}\n`);
}
const def = perKernel[defaultKernel];
// The judge shape: each kernel's attention and train step against the WASM kernel's (the
// baseline, when both are measured), ratio = WASM time ÷ this kernel's (> 1 is faster).
process.stdout.write(
  `judge shape ${JSON.stringify(judgeShape)}, train: median of ${steps} steps, attention: median of ${attnReps} calls\n`,
);
const judge: Record<string, JudgeFigures & { attn_ratio_vs_wasm?: number; train_ratio_vs_wasm?: number }> =
  {};
for (const name of names) judge[name] = await runJudge(name);
const judgeBase = judge["wasm"];
for (const [name, f] of Object.entries(judge)) {
  const attn = f.attn_fwd_ms + f.attn_bwd_ms;
  let line = `judge ${name}: train ${f.train_step_ms} ms, attention forward ${f.attn_fwd_ms} ms + backward ${f.attn_bwd_ms} ms (× ${judgeShape.layers} layers: ${Math.round((100 * judgeShape.layers * attn) / f.train_step_ms)}% of the step)`;
  if (judgeBase !== undefined && name !== "wasm") {
    f.attn_ratio_vs_wasm = round((judgeBase.attn_fwd_ms + judgeBase.attn_bwd_ms) / attn);
    f.train_ratio_vs_wasm = round(judgeBase.train_step_ms / f.train_step_ms);
    line += ` | vs wasm: attention forward ×${round(judgeBase.attn_fwd_ms / f.attn_fwd_ms)}, backward ×${round(judgeBase.attn_bwd_ms / f.attn_bwd_ms)}, both ×${f.attn_ratio_vs_wasm}, train ×${f.train_ratio_vs_wasm}`;
  }
  process.stdout.write(`${line}\n`);
}
const loadAfter = round(loadavg()[0]!);
process.stdout.write(`load ${loadBefore} → ${loadAfter}\n`);
process.stdout.write(
  `${JSON.stringify({
    bench: "engine",
    shape,
    threads,
    load_avg_1m: [loadBefore, loadAfter],
    default_kernel: defaultKernel,
    train_ratio_vs_torch: def?.train_ratio_vs_torch ?? null,
    sample_ratio_vs_torch: def?.sample_ratio_vs_torch ?? null,
    torch: typeof torch === "string" ? { skipped: torch } : torch,
    kernels: perKernel,
    judge: {
      shape: judgeShape,
      baseline: judgeBase === undefined ? null : "wasm",
      attn_ratio_vs_wasm: judge[defaultKernel]?.attn_ratio_vs_wasm ?? null,
      kernels: judge,
    },
  })}\n`,
);
