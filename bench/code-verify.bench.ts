// npm run bench:code-verify — the code verifier's host-side hot path (finding the solution in a
// response, comparing a program's output), against the previous implementation as baseline:
//   extract   last python block of typical responses (prose + 1–3 fenced blocks, 1–6 KB), ours
//             (one linear pass over the lines) vs the fence regex it replaced (an opening fence,
//             a lazy body, a back-referenced closing fence);
//   compare   `lines` mode on program outputs (10–2,000 lines; equal, trailing spaces, CRLF, one
//             wrong token), ours (line by line, string equality first) vs the previous
//             split-everything comparison;
//   hostile   10 KB of unclosed fences, ours vs the baseline (the baseline is quadratic there:
//             1 MB would take it ~1,000 s).
// Both sides are checked to give the same answers on the typical workloads.
// Ends with ONE JSON line.
import { CompareOptions, outputsMatch } from "../src/verify/code/compare.ts";
import { extractSolution } from "../src/verify/code/extract.ts";

// --- the baseline: the code before issue 12 (src/verify/code at 04293d0), verbatim logic ---
const OLD_FENCE = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\n`]*)\n([\s\S]*?)\n?[ \t]*\2[ \t]*$/gm;
function oldExtract(text: string, tags: readonly string[]): string | undefined {
  const blocks: { code: string; tag: string }[] = [];
  for (const m of text.matchAll(OLD_FENCE)) {
    const tag = (m[3] ?? "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    blocks.push({ code: m[4] ?? "", tag });
  }
  const pick = blocks.filter((b) => tags.includes(b.tag)).at(-1) ?? blocks.filter((b) => b.tag === "").at(-1);
  return pick?.code;
}
function oldLines(text: string): string[][] {
  const ls = text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trim().split(/\s+/).filter(Boolean));
  while (ls.length > 0 && ls[ls.length - 1]?.length === 0) ls.pop();
  return ls;
}
function oldOutputsMatch(got: string, want: string): boolean {
  const g = oldLines(got);
  const w = oldLines(want);
  if (g.length !== w.length) return false;
  for (let i = 0; i < g.length; i++) {
    const gl = g[i] as string[];
    const wl = w[i] as string[];
    if (gl.length !== wl.length) return false;
    for (let j = 0; j < gl.length; j++) if (gl[j] !== wl[j]) return false;
  }
  return true;
}

// --- workloads ---
const TAGS = ["python", "py", "python3"];
const N = Number(process.env["BENCH_N"] ?? 2000);
function response(i: number): string {
  const prose = "We iterate over the array and keep a running maximum, which is O(n). ".repeat(5 + (i % 20));
  const code = `def solve(xs):\n${"    best = max(best, x)  # step\n".repeat(3 + (i % 40))}    return best\n`;
  const draft = i % 3 === 0 ? `First attempt:\n\`\`\`python\n${code}\`\`\`\n` : "";
  const other = i % 4 === 0 ? "```text\nsample output 3\n```\n" : "";
  return `${prose}\n${draft}${other}Final:\n\n\`\`\`python\n${code}print(solve([1, 2, 3]))\n\`\`\`\n${prose.slice(0, 200)}`;
}
function output(i: number): [string, string] {
  const lines = Array.from({ length: 10 + ((i * 37) % 2000) }, (_, k) => `${k} ${(k * 7919) % 1000}`);
  const want = `${lines.join("\n")}\n`;
  const kind = i % 4;
  if (kind === 0) return [want, want];
  if (kind === 1) return [lines.map((l) => `${l} `).join("\n"), want];
  if (kind === 2) return [lines.join("\r\n"), want];
  lines[lines.length >> 1] = "0 -1";
  return [lines.join("\n"), want];
}
const responses = Array.from({ length: N }, (_, i) => response(i));
const outputs = Array.from({ length: Math.max(50, N / 10) }, (_, i) => output(i));

function rate(fn: () => void, items: number): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const t = performance.now();
    do {
      fn();
      n += items;
    } while (performance.now() - t < 300);
    runs.push((n / (performance.now() - t)) * 1000);
  }
  return runs.sort((a, b) => a - b)[1] as number;
}

const lines = CompareOptions.parse({});
for (const [i, r] of responses.entries()) {
  const ours = extractSolution(r, TAGS);
  if (!ours.ok || ours.code !== oldExtract(r, TAGS)) throw new Error(`extract differs on response ${i}`);
}
for (const [i, [g, w]] of outputs.entries())
  if (outputsMatch(g, w, lines) !== oldOutputsMatch(g, w)) throw new Error(`compare differs on output ${i}`);

const extractOurs = rate(() => {
  for (const r of responses) extractSolution(r, TAGS);
}, responses.length);
const extractBase = rate(() => {
  for (const r of responses) oldExtract(r, TAGS);
}, responses.length);
const compareOurs = rate(() => {
  for (const [g, w] of outputs) outputsMatch(g, w, lines);
}, outputs.length);
const compareBase = rate(() => {
  for (const [g, w] of outputs) oldOutputsMatch(g, w);
}, outputs.length);
const hostile = "```python\n".repeat(1000);
const t0 = performance.now();
extractSolution(hostile, TAGS);
const hostileOurs = performance.now() - t0;
const t1 = performance.now();
oldExtract(hostile, TAGS);
const hostileBase = performance.now() - t1;

const f = (x: number) => x.toFixed(0);
console.log(
  `extract: ours ${f(extractOurs)}/s, baseline ${f(extractBase)}/s (${(extractOurs / extractBase).toFixed(2)}x)`,
);
console.log(
  `compare: ours ${f(compareOurs)}/s, baseline ${f(compareBase)}/s (${(compareOurs / compareBase).toFixed(2)}x)`,
);
console.log(
  `10 KB of unclosed fences: ours ${hostileOurs.toFixed(2)} ms, baseline ${hostileBase.toFixed(1)} ms`,
);
console.log(
  JSON.stringify({
    bench: "code-verify",
    responses: responses.length,
    outputs: outputs.length,
    extract_per_s: Math.round(extractOurs),
    baseline_extract_per_s: Math.round(extractBase),
    extract_ratio: Number((extractOurs / extractBase).toFixed(2)),
    compare_per_s: Math.round(compareOurs),
    baseline_compare_per_s: Math.round(compareBase),
    compare_ratio: Number((compareOurs / compareBase).toFixed(2)),
    hostile_10kb_ms: Number(hostileOurs.toFixed(2)),
    baseline_hostile_10kb_ms: Number(hostileBase.toFixed(1)),
  }),
);
