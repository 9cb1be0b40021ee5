// The metrics as streaming jobs over JSONL files (what `datascale metrics` runs): each reads
// its input once, keeps one prompt's group (or per-domain series) in memory, and returns a
// JSON-able result plus a printable table.
import { z } from "zod";
import { Id } from "../core/schemas.ts";
import { readJsonl } from "../io/jsonl.ts";
import { type DiversityRecord, diversity } from "./diversity.ts";
import { type DomainHacking, hackingReport, type RunPoint } from "./hacking.ts";
import { DEFAULT_EDGES, type SensitivityBin, SensitivityBins } from "./sensitivity.ts";

/** A prompt's samples: one record holding them all, or one record per sample (consecutive ids). */
export const SampleGroup = z.object({
  id: Id,
  responses: z.array(z.string()).min(1),
  logprobs: z.array(z.array(z.number())).optional(),
  scores: z.array(z.number()).optional(),
});
export const SampleLine = z.object({
  id: Id,
  response: z.string(),
  logprobs: z.array(z.number()).optional(),
  score: z.number().optional(),
});
const SampleInput = z.union([SampleGroup, SampleLine]);
type SampleGroup = z.infer<typeof SampleGroup>;

export const RunPointSchema = z.object({
  step: z.number(),
  domain: z.string().min(1),
  proxy: z.number(),
  gold: z.number().optional(),
  heldout: z.number().optional(),
  kl: z.number().nonnegative().optional(),
});

export type Warn = (message: string) => void;

/** Groups sample lines by consecutive id; group records pass as they are. */
async function* groups(path: string, warn: Warn): AsyncGenerator<SampleGroup> {
  let cur: SampleGroup | undefined;
  for await (const item of readJsonl(path, { schema: SampleInput })) {
    if (!item.ok) {
      warn(`skipping ${item.error}`);
      continue;
    }
    const v = item.value;
    if ("responses" in v) {
      if (cur !== undefined) yield cur;
      cur = undefined;
      yield v;
      continue;
    }
    if (cur === undefined || cur.id !== v.id) {
      if (cur !== undefined) yield cur;
      cur = { id: v.id, responses: [], logprobs: [], scores: [] };
    }
    cur.responses.push(v.response);
    cur.logprobs!.push(v.logprobs ?? []);
    if (v.score !== undefined) cur.scores!.push(v.score);
  }
  if (cur !== undefined) yield cur;
}

export interface DiversitySummary {
  prompts: number;
  mean: Omit<DiversityRecord, "id" | "samples" | "meanTokenEntropy"> & { meanTokenEntropy: number | null };
  perPrompt: DiversityRecord[];
}

export async function diversityJob(path: string, warn: Warn): Promise<DiversitySummary> {
  const per: DiversityRecord[] = [];
  for await (const g of groups(path, warn)) per.push(diversity(g.id, g.responses, g.logprobs ?? []));
  const avg = (f: (r: DiversityRecord) => number | null): number | null => {
    const xs = per.map(f).filter((x): x is number => x !== null);
    return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return {
    prompts: per.length,
    mean: {
      maxEditDistance: avg((r) => r.maxEditDistance) ?? 0,
      meanEditDistance: avg((r) => r.meanEditDistance) ?? 0,
      distinct1: avg((r) => r.distinct1) ?? 0,
      distinct2: avg((r) => r.distinct2) ?? 0,
      selfBleu: avg((r) => r.selfBleu) ?? 0,
      meanTokenEntropy: avg((r) => r.meanTokenEntropy),
    },
    perPrompt: per,
  };
}

export async function hackingJob(
  path: string,
  warn: Warn,
  options: { minRise?: number; minDrop?: number; window?: number } = {},
): Promise<DomainHacking[]> {
  const points: RunPoint[] = [];
  for await (const item of readJsonl(path, { schema: RunPointSchema })) {
    if (item.ok) points.push(item.value as RunPoint);
    else warn(`skipping ${item.error}`);
  }
  return hackingReport(points, options);
}

export async function sensitivityJob(
  path: string,
  warn: Warn,
  edges: readonly number[] = DEFAULT_EDGES,
): Promise<SensitivityBin[]> {
  const bins = new SensitivityBins(edges);
  for await (const g of groups(path, warn)) {
    const scores = g.scores ?? [];
    if (scores.length !== g.responses.length) {
      warn(`prompt ${String(g.id)}: ${g.responses.length} responses but ${scores.length} scores; skipped`);
      continue;
    }
    bins.addGroup(g.responses.map((response, i) => ({ response, score: scores[i]! })));
  }
  return bins.result();
}

const f = (x: number | null | undefined, d = 3): string =>
  x === null || x === undefined ? "–" : x.toFixed(d);

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n") + "\n";
}

export function formatDiversity(s: DiversitySummary): string {
  const m = s.mean;
  return (
    `diversity over ${s.prompts} prompts (means over prompts)\n` +
    table(
      ["max edit", "mean edit", "distinct-1", "distinct-2", "self-BLEU", "token entropy"],
      [
        [
          f(m.maxEditDistance, 1),
          f(m.meanEditDistance, 1),
          f(m.distinct1),
          f(m.distinct2),
          f(m.selfBleu),
          f(m.meanTokenEntropy),
        ],
      ],
    )
  );
}

export function formatHacking(rows: readonly DomainHacking[]): string {
  return table(
    [
      "domain",
      "points",
      "div early",
      "div late",
      "pearson",
      "spearman",
      "peak step",
      "rose→fell",
      "gao α",
      "gao β",
      "√KL*",
    ],
    rows.map((r) => [
      r.domain,
      String(r.points),
      f(r.divergenceEarly),
      f(r.divergenceLate),
      f(r.pearson),
      f(r.spearman),
      r.heldout === null ? "–" : String(r.heldout.peakStep),
      r.heldout === null ? "–" : r.heldout.roseThenFell ? "YES" : "no",
      f(r.gao?.alpha),
      f(r.gao?.beta),
      f(r.gao?.peakD),
    ]),
  );
}

export function formatSensitivity(bins: readonly SensitivityBin[]): string {
  return table(
    ["edit distance", "pairs", "mean |gap|", "separated"],
    bins.map((b) => [
      `[${b.lo}, ${b.hi}${b.hi === 1 ? "]" : ")"}`,
      String(b.pairs),
      f(b.meanGap),
      f(b.separated),
    ]),
  );
}
