// npm run bench:select — the selection machinery on pools of 100k and 1M prompts whose K=4
// responses are pre-generated into the file, scored by a fast verifier-only reward.
// Compared side by side in the same run with a naive baseline that loads the whole pool
// into memory, scores it, sorts per domain and writes the lowest fraction.
// Each variant runs in its own child process so that its peak RSS (sampled every 20 ms)
// is its own. Ends with one JSON line holding every figure.
//
// The reward is pluggable: BENCH_REWARD=exact-match (default: exact match of the response
// with reference.answer, standing in until the math verifier lands on main), `verifiers`,
// or a module path exporting createRewardFn().

import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RewardFn, Task } from "../src/core/schemas.ts";
import { loadRewardFn } from "../src/select/rewards.ts";
import { selectPrompts } from "../src/select/select.ts";

const K = 4;
const KEEP = 0.1;
const DOMAINS = ["math", "general", "chat", "writing"] as const;
const UNFILTERED = ["math", "code"];
const rewardSpec = process.env.BENCH_REWARD ?? "exact-match";
const STREAMING_HEAP_MB = 96;

/** Peak RSS and peak V8 heap in use, sampled every 20 ms. */
function sampleMemory(): { stop: () => { rss: number; heap: number } } {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  sample();
  const t = setInterval(sample, 20);
  return {
    stop: () => {
      clearInterval(t);
      sample();
      return { rss, heap };
    },
  };
}

async function generatePool(path: string, n: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let s = 42;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  let buf = "";
  for (let i = 0; i < n; i++) {
    const domain = DOMAINS[i % DOMAINS.length]!;
    const answer = String(i % 97);
    // Per-domain difficulty differs, so per-domain normalisation has work to do.
    const pRight = domain === "chat" ? 0.8 : domain === "writing" ? 0.3 : 0.55;
    const responses = Array.from({ length: K }, () => (rand() < pRight ? answer : String((i + 1) % 97)));
    buf += `${JSON.stringify({ id: `p${i}`, domain, prompt: `Question ${i}: what is ${i} mod 97?`, reference: { answer }, responses })}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
      buf = "";
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.once("finish", () => r()));
}

/** The baseline: everything in memory, one sort per domain. */
async function naiveSelect(pool: string, out: string, reward: RewardFn): Promise<number> {
  const lines = (await readFile(pool, "utf8")).split("\n").filter((l) => l !== "");
  const recs = lines.map((l) => JSON.parse(l) as Task & { responses: string[] });
  const scored: { rec: (typeof recs)[number]; mean: number }[] = [];
  const kept: unknown[] = [];
  for (let i = 0; i < recs.length; i += 256) {
    const batch = recs.slice(i, i + 256).filter((r) => !UNFILTERED.includes(r.domain));
    const rollouts = batch.flatMap((r) => r.responses.map((response) => ({ ...r, response })));
    const rewards = await reward(rollouts);
    batch.forEach((rec, j) => {
      let m = 0;
      for (let k = 0; k < K; k++) m += rewards[j * K + k]!.score;
      scored.push({ rec, mean: m / K });
    });
  }
  const byDomain = new Map<string, typeof scored>();
  for (const x of scored) {
    const list = byDomain.get(x.rec.domain) ?? [];
    list.push(x);
    byDomain.set(x.rec.domain, list);
  }
  const z: { rec: Task; z: number }[] = [];
  for (const list of byDomain.values()) {
    const mu = list.reduce((a, x) => a + x.mean, 0) / list.length;
    const sd = Math.sqrt(list.reduce((a, x) => a + (x.mean - mu) ** 2, 0) / list.length) || 1;
    for (const x of list) z.push({ rec: x.rec, z: (x.mean - mu) / sd });
  }
  z.sort((a, b) => a.z - b.z);
  for (const x of z.slice(0, Math.round(KEEP * z.length))) kept.push(x.rec);
  for (const r of recs) if (UNFILTERED.includes(r.domain)) kept.push(r);
  await writeFile(out, kept.map((r) => JSON.stringify(r)).join("\n"));
  return kept.length;
}

async function child(variant: string, pool: string, dir: string): Promise<void> {
  const { rewardFn: reward } = await loadRewardFn(rewardSpec);
  const mem = sampleMemory();
  const t0 = performance.now();
  let kept: number;
  if (variant === "streaming") {
    const res = await selectPrompts({
      pool,
      out: join(dir, "streaming.jsonl"),
      runDir: join(dir, "run"),
      resume: false,
      reward,
      samples: K,
      keep: KEEP,
      normalisation: "zscore",
      unfiltered: UNFILTERED,
      batchPrompts: 256,
      concurrency: 4,
    });
    kept = res.report.kept;
  } else {
    kept = await naiveSelect(pool, join(dir, "naive.jsonl"), reward);
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = mem.stop();
  process.stdout.write(
    `${JSON.stringify({ seconds, peakRssMb: peak.rss / 2 ** 20, peakHeapMb: peak.heap / 2 ** 20, kept })}\n`,
  );
}

interface Figures {
  seconds: number;
  peakRssMb: number;
  peakHeapMb: number;
  kept: number;
}

async function runChild(variant: string, pool: string, dir: string): Promise<Figures> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    // The streaming selection runs under a small fixed V8 heap cap: finishing the 1M pool
    // under it shows that its working set does not grow with the pool. The baseline needs
    // a large one.
    const heap = variant === "streaming" ? STREAMING_HEAP_MB : 8192;
    const p = spawn(process.execPath, [`--max-old-space-size=${heap}`, self, "--child", variant, pool, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    p.on("close", (code) => {
      if (code !== 0) reject(new Error(`${variant} child exited ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop()!) as Figures);
    });
  });
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? "100000,1000000").split(",").map(Number);
  const dir = await mkdtemp(join(tmpdir(), "ds-bench-select-"));
  const figures: Record<string, unknown> = {
    reward: rewardSpec,
    samplesPerPrompt: K,
    keep: KEEP,
    streamingHeapCapMb: STREAMING_HEAP_MB,
  };
  try {
    for (const n of sizes) {
      const pool = join(dir, `pool-${n}.jsonl`);
      await generatePool(pool, n);
      const mb = (await stat(pool)).size / 2 ** 20;
      const s = await runChild("streaming", pool, dir);
      const b = await runChild("naive", pool, dir);
      const rate = (f: Figures) => n / f.seconds;
      console.error(
        `n=${n} (${mb.toFixed(0)} MB): streaming ${rate(s).toFixed(0)} prompts/s, peak RSS ${s.peakRssMb.toFixed(0)} MB (heap ${s.peakHeapMb.toFixed(0)} MB); ` +
          `naive ${rate(b).toFixed(0)} prompts/s, peak RSS ${b.peakRssMb.toFixed(0)} MB (heap ${b.peakHeapMb.toFixed(0)} MB); ` +
          `speed ratio ${(rate(s) / rate(b)).toFixed(2)}x, memory ratio naive/streaming ${(b.peakRssMb / s.peakRssMb).toFixed(1)}x; kept ${s.kept} vs ${b.kept}`,
      );
      figures[`n${n}`] = {
        poolMb: Math.round(mb),
        streamingPromptsPerSec: Math.round(rate(s)),
        streamingPeakRssMb: Math.round(s.peakRssMb),
        streamingPeakHeapMb: Math.round(s.peakHeapMb),
        naivePromptsPerSec: Math.round(rate(b)),
        naivePeakRssMb: Math.round(b.peakRssMb),
        naivePeakHeapMb: Math.round(b.peakHeapMb),
        speedRatio: Number((rate(s) / rate(b)).toFixed(3)),
        memoryRatioNaiveOverStreaming: Number((b.peakRssMb / s.peakRssMb).toFixed(2)),
        keptStreaming: s.kept,
        keptNaive: b.kept,
      };
      await rm(pool, { force: true });
      await rm(join(dir, "run"), { recursive: true, force: true });
    }
    if (sizes.length >= 2) {
      type Mem = {
        streamingPeakRssMb: number;
        naivePeakRssMb: number;
        streamingPeakHeapMb: number;
        naivePeakHeapMb: number;
      };
      const small = figures[`n${sizes[0]}`] as Mem;
      const big = figures[`n${sizes[sizes.length - 1]}`] as Mem;
      const g = (a: number, b: number) => Number((b / a).toFixed(2));
      figures.streamingRssGrowth = g(small.streamingPeakRssMb, big.streamingPeakRssMb);
      figures.naiveRssGrowth = g(small.naivePeakRssMb, big.naivePeakRssMb);
      figures.streamingHeapGrowth = g(small.streamingPeakHeapMb, big.streamingPeakHeapMb);
      figures.naiveHeapGrowth = g(small.naivePeakHeapMb, big.naivePeakHeapMb);
      console.error(
        `pool grew ${sizes[sizes.length - 1]! / sizes[0]!}x: streaming peak RSS grew ${figures.streamingRssGrowth}x ` +
          `(heap ${figures.streamingHeapGrowth}x), naive ${figures.naiveRssGrowth}x (heap ${figures.naiveHeapGrowth}x)`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: "select", ...figures }));
}

if (process.argv[2] === "--child") {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  await main();
}
