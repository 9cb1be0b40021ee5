// Math verifier benchmark: single-thread throughput and latency on the labelled set, side by
// side with HuggingFace Math-Verify (Python) when a copy is available, in the same run.
// Usage: npm run bench:math   (env MATH_VERIFY_PATH, PYTHON, BENCH_SECONDS)
// Ends with one JSON line holding every figure.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { createMathVerifier } from "../src/verify/math/index.ts";

const Case = z.object({ category: z.string(), gold: z.string(), response: z.string(), label: z.boolean() });
const casesFile = fileURLToPath(new URL("../test/verify/math/cases.jsonl", import.meta.url));
const cases = readFileSync(casesFile, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l, i) => {
    const r = Case.safeParse(JSON.parse(l));
    if (!r.success) throw new Error(`${casesFile}:${i + 1}: ${r.error.message}`);
    return r.data;
  });

function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const round = (x: number, d = 3): number => Number(x.toFixed(d));

// ---- DataScale, single thread ----
const verifier = createMathVerifier();
const rollouts = cases.map((c, i) => ({
  id: i,
  domain: "math",
  reference: { answer: c.gold },
  response: c.response,
}));
const verdictOf = (i: number): boolean => {
  const r = verifier.verify(rollouts[i]!);
  if (r instanceof Promise) throw new Error("math verifier must be synchronous");
  return r.verdict === "correct";
};
for (let i = 0; i < cases.length; i++) verdictOf(i); // warm-up: JIT

const minSeconds = Number(process.env["BENCH_SECONDS"] ?? 3);
const latencies: number[] = [];
let agreeing = 0;
let passes = 0;
const start = performance.now();
while (performance.now() - start < minSeconds * 1000 || passes < 3) {
  for (let i = 0; i < cases.length; i++) {
    const t = performance.now();
    const ok = verdictOf(i);
    latencies.push(performance.now() - t);
    if (passes === 0 && ok === cases[i]!.label) agreeing++;
  }
  passes++;
}
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const ours = {
  casesPerS: latencies.length / elapsed,
  p50: quantile(latencies, 0.5),
  p99: quantile(latencies, 0.99),
  agreement: agreeing / cases.length,
};
console.log(
  `labelled set: ${cases.length} cases (${cases.filter((c) => c.label).length} true), ${passes} passes`,
);
console.log(
  `DataScale rtv:math   ${ours.casesPerS.toFixed(0).padStart(8)} cases/s   p50 ${ours.p50.toFixed(3)} ms   p99 ${ours.p99.toFixed(3)} ms   agreement ${(100 * ours.agreement).toFixed(1)}%`,
);

// ---- Math-Verify, same cases, same run ----
const figures: Record<string, number | string> = {
  cases: cases.length,
  cases_per_s_single_thread: round(ours.casesPerS, 1),
  p50_ms: round(ours.p50, 4),
  p99_ms: round(ours.p99, 4),
  agreement: round(ours.agreement, 4),
};
const python = process.env["PYTHON"] ?? "/usr/bin/python3";
const driver = fileURLToPath(new URL("./math_verify_driver.py", import.meta.url));
const input = cases.map((c) => JSON.stringify({ gold: c.gold, response: c.response })).join("\n");
const proc = spawnSync(python, [driver], {
  input,
  encoding: "utf8",
  maxBuffer: 64 << 20,
  timeout: 30 * 60_000,
});
const MvOut = z.union([
  z.object({ skipped: z.string() }),
  z.object({ results: z.array(z.boolean()), latencies_ms: z.array(z.number()), seconds: z.number() }),
]);
let mv: z.infer<typeof MvOut> | undefined;
if (proc.error !== undefined || proc.status !== 0) {
  console.log(
    `Math-Verify: skipped (${python} failed: ${proc.error?.message ?? proc.stderr.trim().split("\n").pop()})`,
  );
} else {
  const lastLine = proc.stdout.trim().split("\n").pop() ?? "";
  const parsed = MvOut.safeParse(JSON.parse(lastLine));
  if (!parsed.success)
    console.log(`Math-Verify: skipped (unexpected driver output: ${lastLine.slice(0, 200)})`);
  else mv = parsed.data;
}
if (mv !== undefined && "skipped" in mv) {
  console.log(`Math-Verify: skipped (${mv.skipped})`);
} else if (mv !== undefined) {
  const agree = mv.results.filter((r, i) => r === cases[i]!.label).length / cases.length;
  const lat = [...mv.latencies_ms].sort((a, b) => a - b);
  const mvRate = cases.length / mv.seconds;
  console.log(
    `Math-Verify (Python) ${mvRate.toFixed(0).padStart(8)} cases/s   p50 ${quantile(lat, 0.5).toFixed(3)} ms   p99 ${quantile(lat, 0.99).toFixed(3)} ms   agreement ${(100 * agree).toFixed(1)}%`,
  );
  console.log(
    `throughput ratio (DataScale / Math-Verify, single thread): ${(ours.casesPerS / mvRate).toFixed(1)}x; ` +
      `median latency ratio ${(quantile(lat, 0.5) / ours.p50).toFixed(1)}x`,
  );
  // Where the two disagree with the labels, for the doc's comparison.
  const byCat = new Map<string, [number, number]>();
  mv.results.forEach((r, i) => {
    const c = cases[i]!;
    const e = byCat.get(c.category) ?? [0, 0];
    if (r !== c.label) e[0]++;
    e[1]++;
    byCat.set(c.category, e);
  });
  const misses = [...byCat].filter(([, [m]]) => m > 0).map(([k, [m, n]]) => `${k} ${m}/${n}`);
  console.log(`Math-Verify disagreements with labels by category: ${misses.join(", ") || "none"}`);
  // Math-Verify has no <answer>-tag extraction; report agreement without those cases too.
  const plain = cases.map((_c, i) => i).filter((i) => !cases[i]!.response.includes("<answer>"));
  const oursPlain = plain.filter((i) => verdictOf(i) === cases[i]!.label).length / plain.length;
  const mvPlain = plain.filter((i) => mv.results[i] === cases[i]!.label).length / plain.length;
  console.log(
    `agreement without <answer>-tag responses (${plain.length} cases): DataScale ${(100 * oursPlain).toFixed(1)}%, Math-Verify ${(100 * mvPlain).toFixed(1)}%`,
  );
  figures["agreement_no_answer_tags"] = round(oursPlain, 4);
  figures["math_verify_agreement_no_answer_tags"] = round(mvPlain, 4);
  figures["math_verify_cases_per_s"] = round(mvRate, 1);
  figures["math_verify_p99_ms"] = round(quantile(lat, 0.99), 3);
  figures["math_verify_agreement"] = round(agree, 4);
  figures["throughput_ratio"] = round(ours.casesPerS / mvRate, 1);
  // Medians resist the bursts of a shared machine better than totals do.
  figures["median_latency_ratio"] = round(quantile(lat, 0.5) / ours.p50, 1);
}
console.log(JSON.stringify(figures));
