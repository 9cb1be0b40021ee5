// The selection report: per-domain score distributions (the paper's Fig. 3 view), the cut,
// and what was kept, as JSON and as a Markdown table a person can read.
import { HISTOGRAM_BINS } from "./cut.ts";

export interface DomainReport {
  domain: string;
  unfiltered: boolean;
  scored: number;
  candidates: number;
  lowVariance: number;
  errors: number;
  passthrough: number;
  kept: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** The domain's raw mean score at the cut: prompts scoring below it were kept. */
  rawCut: number | null;
  histogram: number[];
}

export interface SelectionReport {
  pool: string;
  out: string;
  normalisation: string;
  keep: number;
  minVariance: number | null;
  unfiltered: string[];
  cut: {
    normalised: number | null;
    target: number;
    candidates: number;
    tiesKept: number;
    atCut: number;
    exact: boolean;
  } | null;
  original: number;
  kept: number;
  domains: DomainReport[];
  badLines: number;
}

const BARS = " ▁▂▃▄▅▆▇█";

/** One character per bin, height relative to the fullest bin. */
export function sparkline(counts: readonly number[]): string {
  const max = Math.max(0, ...counts);
  if (max === 0) return " ".repeat(counts.length);
  return counts
    .map((c) => BARS[c === 0 ? 0 : Math.max(1, Math.round((c / max) * (BARS.length - 1)))])
    .join("");
}

const fmt = (x: number | null, digits = 3): string => (x === null ? "–" : x.toFixed(digits));

export function formatReport(r: SelectionReport): string {
  const lines = [
    `# Pre-PPO selection report`,
    ``,
    `pool \`${r.pool}\` → \`${r.out}\`; normalisation **${r.normalisation}**, keep **${r.keep}** of the filtered new pool` +
      (r.minVariance === null ? "" : `, low-variance drop below ${r.minVariance}`) +
      `; unfiltered domains: ${r.unfiltered.join(", ") || "none"}.`,
    ``,
    r.cut === null
      ? `No cut (selection incomplete).`
      : `Cut at normalised score ${fmt(r.cut.normalised)} (${r.cut.exact ? "exact" : "sketched"}): target ${r.cut.target} of ${r.cut.candidates} candidates, ${r.cut.tiesKept} of ${r.cut.atCut} prompts tied at the cut kept by seeded hash.`,
    `Output: ${r.original} original + ${r.kept} new = ${r.original + r.kept} tasks; ${r.badLines} bad lines skipped.`,
    ``,
    `| domain | scored | low-var | errors | passthrough | kept | mean | std | raw cut | score histogram [0,1] (${HISTOGRAM_BINS} bins) |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---|`,
  ];
  for (const d of r.domains) {
    lines.push(
      `| ${d.domain}${d.unfiltered ? " (unfiltered)" : ""} | ${d.scored} | ${d.lowVariance} | ${d.errors} | ${d.passthrough} | ${d.kept} | ${fmt(d.mean)} | ${fmt(d.std)} | ${fmt(d.rawCut)} | \`${sparkline(d.histogram)}\` |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
