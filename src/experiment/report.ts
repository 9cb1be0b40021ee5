// The report of the main job: one self-contained HTML file (inline SVG plots and CSS, no
// scripts, no external URLs) and a markdown twin that links the same plots as SVG files.
// Both are rendered from one document model so they carry the same tables; the plots are
// Vega-Lite specs (plots.ts) rendered to SVG in Node, without a browser or canvas.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { readJsonFile } from "../io/json-file.ts";
import { writeFileAtomic } from "../io/rundir.ts";
import {
  colourTable,
  comparisonDomainsSpec,
  comparisonGoldSpec,
  diversitySpec,
  evalDomains,
  ladderGoldSpec,
  ladderKlSpec,
  ladderProxySpec,
  selectionSpec,
  sensitivitySpec,
  smoothingWindow,
} from "./plots.ts";
import { ExperimentResults, type Finding, type RunCurve } from "./results.ts";

// ---------------------------------------------------------------- document model

interface Table {
  kind: "table";
  caption: string;
  head: string[];
  rows: string[][];
  /** Columns (by index) holding numbers, right-aligned. */
  numeric: number[];
}
type Block =
  | { kind: "p"; label?: string; text: string }
  | Table
  | { kind: "plot"; name: string; title: string; caption: string };

interface Section {
  anchor: string;
  title: string;
  finding?: Finding;
  blocks: Block[];
}

interface PlotDef {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

// ---------------------------------------------------------------- formatting

const DASH = "—";
function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(100 * x).toFixed(1)}%`;
}
function fixed(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(digits);
}
function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h} h ${m} min ${rest} s` : m > 0 ? `${m} min ${rest} s` : `${rest} s`;
}
function badge(reproduced: boolean | null): { symbol: string; text: string; cls: string } {
  if (reproduced === true) return { symbol: "✓", text: "reproduced", cls: "yes" };
  if (reproduced === false) return { symbol: "✗", text: "not reproduced", cls: "no" };
  return { symbol: "?", text: "inconclusive", cls: "unknown" };
}

export function escapeHtml(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Escapes text for a markdown paragraph or table cell: markup characters, raw HTML and line breaks. */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\\`*_[\]|#]/g, (c) => `\\${c}`)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replace(/\r?\n/g, " ");
}

/** A safe fragment id for a finding (ids come from data). */
function anchorOf(id: string, taken: Set<string>): string {
  const base = `finding-${id.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  let a = base;
  for (let i = 2; taken.has(a); i++) a = `${base}-${i}`;
  taken.add(a);
  return a;
}

// ---------------------------------------------------------------- plots

function stepsOf(curves: readonly RunCurve[]): number[] {
  return curves.map((c) => c.trainReward.length);
}

/** Every plot the results have data for, keyed by the file name it is written under. */
function plotDefs(r: ExperimentResults): Map<string, PlotDef> {
  const colours = colourTable(r);
  const defs: PlotDef[] = [];
  const hasPoints = (cs: readonly RunCurve[]) => cs.some((c) => c.points.length > 0);
  if (hasPoints(r.ladder)) {
    defs.push({
      name: "ladder-gold",
      title: "Reward ladder: gold accuracy of the policy's samples",
      caption:
        "PPO on the same prompts with one reward source each; gold = the verifier on the policy's samples (temperature 1) for the original prompts. Right: lift = gold minus the run's first evaluation, divided by its largest lift (1 = the curve's peak), as the paper plots relative lift; a run that never rose above its start is left out of that panel.",
      spec: ladderGoldSpec(r, colours),
    });
    defs.push({
      name: "ladder-kl",
      title: "Reward ladder: gold and proxy against √KL",
      caption:
        "Gao et al.'s view of over-optimisation: the proxy a run optimises (dashed) and the gold score (solid) at each evaluation, against the square root of the per-sequence KL from the reference policy. Hacking shows as the proxy rising while gold flattens or falls.",
      spec: ladderKlSpec(r, colours),
    });
  }
  if (r.ladder.some((c) => c.trainReward.length > 0)) {
    const windows = [...new Set(stepsOf(r.ladder).map(smoothingWindow))].join(", ");
    defs.push({
      name: "ladder-proxy",
      title: "Reward ladder: training reward (proxy) against step",
      caption: `Mean training reward per PPO step under each run's own reward source, moving average over ${windows} step(s).`,
      spec: ladderProxySpec(r, colours),
    });
  }
  if (r.sensitivity.some((s) => s.bins.some((b) => b.pairs > 0))) {
    defs.push({
      name: "sensitivity",
      title: "Judge sensitivity: score gap against edit distance",
      caption:
        "Pairs of responses to the same prompt, binned by normalised edit distance; left: the mean absolute score gap each reward source gives a pair, right: the share of pairs it scores apart. A source that sees fine-grained differences has a large gap already at small distances.",
      spec: sensitivitySpec(r, colours),
    });
  }
  if (r.selection.domains.length > 0) {
    defs.push({
      name: "selection",
      title: "Pre-PPO selection per domain",
      caption: `Scores of the new prompt pool under the hybrid reward (${r.selection.samples} samples per prompt, ${r.selection.normalisation} normalisation per domain, keep ${pct(r.selection.keep)} of the filtered domains). Gold = the SFT policy's verifier accuracy on the kept prompts vs the whole pool: the selection should keep hard prompts.`,
      spec: selectionSpec(r),
    });
  }
  if (hasPoints(r.comparison)) {
    defs.push({
      name: "comparison-gold",
      title: "Baseline vs DataScale and ablations: gold on the original prompts",
      caption:
        "Gold accuracy (all domains) of the policy's samples on the original prompts, which every run trains on; the paper reports the best checkpoint. Held-out figures are in the table.",
      spec: comparisonGoldSpec(r, colours),
    });
    defs.push({
      name: "comparison-domains",
      title: "Baseline vs DataScale and ablations: gold per domain",
      caption:
        "The same runs, gold accuracy per domain on the original prompts (y scales differ between panels).",
      spec: comparisonDomainsSpec(r, colours),
    });
    defs.push({
      name: "diversity-comparison",
      title: "Response diversity: comparison runs",
      caption:
        "Mean token entropy of sampled responses and the mean over prompts of the maximum pairwise normalised edit distance among the samples.",
      spec: diversitySpec(r.comparison, colours),
    });
  }
  if (hasPoints(r.ladder)) {
    defs.push({
      name: "diversity-ladder",
      title: "Response diversity: ladder runs",
      caption: "The same diversity measures for the reward ladder.",
      spec: diversitySpec(r.ladder, colours),
    });
  }
  return new Map(defs.map((d) => [d.name, d]));
}

/**
 * Renders a Vega-Lite spec to SVG. Element ids (clip paths, gradients) are renamed per plot
 * so that several SVGs inlined in one page cannot collide and the output does not depend on
 * Vega's process-wide id counter.
 */
export async function renderSvg(name: string, spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g))
    if (!ids.has(m[1]!)) ids.set(m[1]!, `${name}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_all, pre: string, id: string) => `${pre}${ids.get(id) ?? id}"`)
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all))
    .replace(/(href=")#([^"]+)"/g, (all, pre: string, id: string) =>
      ids.has(id) ? `${pre}#${ids.get(id)}"` : all,
    );
}

/** An SVG for inlining in HTML5, where namespace declarations are implied (and would be the page's only URLs). */
function inlineSvg(svg: string): string {
  return svg.replace(/\sxmlns(:xlink)?="[^"]*"/g, "");
}

// ---------------------------------------------------------------- tables

function runTable(caption: string, curves: readonly RunCurve[]): Table {
  return {
    kind: "table",
    caption,
    head: [
      "run",
      "what it trains on",
      "start gold",
      "best gold",
      "peak step",
      "final gold",
      "final step",
      "final proxy",
      "final √KL",
      "held-out start",
      "held-out final",
    ],
    numeric: [2, 3, 4, 5, 6, 7, 8, 9, 10],
    rows: curves.map((c) => {
      const pts = [...c.points].sort((a, b) => a.step - b.step);
      const last = pts.at(-1);
      return [
        c.name,
        c.description,
        pct(pts[0]?.gold.overall),
        pct(c.best.gold),
        String(c.best.step),
        pct(c.final.gold),
        String(c.final.step),
        fixed(last?.proxy),
        fixed(last === undefined ? undefined : Math.sqrt(Math.max(0, last.kl))),
        pct(pts[0]?.heldout.overall),
        pct(last?.heldout.overall),
      ];
    }),
  };
}

function domainTable(caption: string, curves: readonly RunCurve[]): Table {
  const domains = evalDomains(curves);
  return {
    kind: "table",
    caption,
    head: ["run", ...domains.flatMap((d) => [`${d} best`, `${d} final`])],
    numeric: domains.flatMap((_, i) => [1 + 2 * i, 2 + 2 * i]),
    rows: curves.map((c) => {
      const pts = [...c.points].sort((a, b) => a.step - b.step);
      return [
        c.name,
        ...domains.flatMap((d) => {
          const xs = pts.flatMap((p) => (p.gold.byDomain[d] === undefined ? [] : [p.gold.byDomain[d]]));
          return [xs.length === 0 ? DASH : pct(Math.max(...xs)), pct(pts.at(-1)?.gold.byDomain[d])];
        }),
      ];
    }),
  };
}

function diversityTable(caption: string, curves: readonly RunCurve[]): Table {
  return {
    kind: "table",
    caption,
    head: ["run", "entropy start", "entropy final", "max edit distance start", "max edit distance final"],
    numeric: [1, 2, 3, 4],
    rows: curves.map((c) => {
      const pts = [...c.points].sort((a, b) => a.step - b.step);
      const [first, last] = [pts[0], pts.at(-1)];
      return [
        c.name,
        fixed(first?.entropy),
        fixed(last?.entropy),
        fixed(first?.maxEditDistance),
        fixed(last?.maxEditDistance),
      ];
    }),
  };
}

function sensitivityTable(r: ExperimentResults): Table {
  // Columns are the union of the sources' bins, ordered by their lower edge.
  const bins = new Map<string, { lo: number; hi: number }>();
  for (const s of r.sensitivity) for (const b of s.bins) bins.set(`${b.lo}|${b.hi}`, { lo: b.lo, hi: b.hi });
  const cols = [...bins.entries()].sort((a, b) => a[1].lo - b[1].lo || a[1].hi - b[1].hi);
  return {
    kind: "table",
    caption: "Mean score gap per edit-distance bin (pairs in the bin in brackets).",
    head: ["source", ...cols.map(([, b]) => `${fixed(b.lo, 2)}–${fixed(b.hi, 2)}`)],
    numeric: cols.map((_, i) => i + 1),
    rows: r.sensitivity.map((s) => [
      s.source,
      ...cols.map(([key]) => {
        const b = s.bins.find((x) => `${x.lo}|${x.hi}` === key);
        return b === undefined || b.pairs === 0 ? DASH : `${fixed(b.meanGap)} (${b.pairs})`;
      }),
    ]),
  };
}

function selectionTable(r: ExperimentResults): Table {
  return {
    kind: "table",
    caption: `Pre-PPO selection: keep ${pct(r.selection.keep)}, ${r.selection.samples} samples per prompt, ${r.selection.normalisation} normalisation within each domain.`,
    head: [
      "domain",
      "filtered",
      "pool",
      "kept",
      "mean score",
      "share > 0.5",
      "SFT gold, kept",
      "SFT gold, pool",
    ],
    numeric: [2, 3, 4, 5, 6, 7],
    rows: r.selection.domains.map((d) => [
      d.domain,
      d.filtered ? "yes" : "no (kept whole)",
      String(d.pool),
      String(d.kept),
      fixed(d.meanScore),
      pct(d.aboveHalf),
      pct(d.goldKept),
      pct(d.goldPool),
    ]),
  };
}

function setupBlocks(r: ExperimentResults): Block[] {
  const kv = (caption: string, entries: [string, string][]): Table => ({
    kind: "table",
    caption,
    head: ["", ""],
    numeric: [],
    rows: entries.map(([k, v]) => [k, v]),
  });
  return [
    kv("Run", [
      ["scale", r.scale],
      ["seed", String(r.seed)],
      ["started", r.startedAt],
      ["finished", r.finishedAt],
      ["wall time", duration(r.wallSeconds)],
      ["kernel", r.kernel],
      ["machine", `${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.platform}`],
      [
        "policy model",
        `${r.world.model.params.toLocaleString("en-US")} parameters: dim ${r.world.model.dim}, ${r.world.model.nLayers} layers, ${r.world.model.nHeads} heads`,
      ],
    ]),
    {
      kind: "table",
      caption:
        "World: task families, the domain each is filed under, and the hybrid reward source that scores it.",
      head: ["family", "domain", "reward source"],
      numeric: [],
      rows: r.world.families.map((f) => [f.family, f.domain, f.reward]),
    },
    {
      kind: "table",
      caption: "Prompts per set.",
      head: ["set", "prompts"],
      numeric: [1],
      rows: Object.entries(r.world.sizes).map(([k, v]) => [k, v.toLocaleString("en-US")]),
    },
    {
      kind: "table",
      caption: "Training steps per stage (evalEvery: PPO steps between evaluations).",
      head: ["stage", "steps"],
      numeric: [1],
      rows: Object.entries(r.world.steps).map(([k, v]) => [k, v.toLocaleString("en-US")]),
    },
  ];
}

function modelsTable(r: ExperimentResults): Table {
  const m = r.models;
  return {
    kind: "table",
    caption: "Quality of the policy at the start of PPO and of the reward models, on held-out data.",
    head: ["model", "measure", "value"],
    numeric: [2],
    rows: [
      ["SFT policy", "greedy gold accuracy, all domains", pct(m.sft.overall)],
      ...Object.entries(m.sft.byDomain)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([d, x]) => ["SFT policy", `gold accuracy, ${d}`, pct(x)]),
      ["Bradley–Terry RM", "pairwise accuracy against the gold ordering", pct(m.btAccuracy)],
      ["GenRM, ground-truth reference", "balanced accuracy against gold", pct(m.genrmGtAccuracy)],
      [
        "GenRM, sample reference (as with Best-of-N)",
        "balanced accuracy against gold",
        pct(m.genrmBonAccuracy),
      ],
      ["Best-of-N references", "gold accuracy of the BT RM's pick among N SFT samples", pct(m.bonGold)],
      ["SFT sample", "gold accuracy of a random SFT sample", pct(m.sampleGold)],
    ],
  };
}

/** The plots and tables that belong to each finding the pipeline derives (src/experiment/findings.ts). */
function findingContent(id: string, r: ExperimentResults): { plots: string[]; tables: Table[] } | undefined {
  switch (id) {
    case "reward-ladder":
      return {
        plots: ["ladder-gold", "ladder-proxy", "ladder-kl"],
        tables: [
          runTable(
            "Ladder runs: gold on the original prompts at the start, the best checkpoint and the end; held-out gold at the start and the end.",
            r.ladder,
          ),
        ],
      };
    case "fine-grained":
      return { plots: ["sensitivity"], tables: [sensitivityTable(r)] };
    case "selection":
      return { plots: ["selection"], tables: [selectionTable(r)] };
    case "datascale":
      return {
        plots: ["comparison-gold"],
        tables: [
          runTable(
            "Comparison runs: gold on the original prompts at the start, the best checkpoint and the end; held-out gold at the start and the end.",
            r.comparison,
          ),
        ],
      };
    case "math-code-first":
      return {
        plots: ["comparison-domains"],
        tables: [
          domainTable("Comparison runs: best and final gold per domain (original prompts).", r.comparison),
        ],
      };
    case "entropy":
      return {
        plots: ["diversity-comparison", "diversity-ladder"],
        tables: [
          diversityTable("Comparison runs: diversity at the first and last evaluation.", r.comparison),
          diversityTable("Ladder runs: diversity at the first and last evaluation.", r.ladder),
        ],
      };
    default:
      return undefined;
  }
}

function buildSections(r: ExperimentResults, plots: Map<string, PlotDef>): Section[] {
  const taken = new Set<string>(["summary", "setup", "models", "other"]);
  const placed = new Set<string>();
  const plotBlock = (name: string): Block[] => {
    const def = plots.get(name);
    if (def === undefined || placed.has(name)) return [];
    placed.add(name);
    return [{ kind: "plot", name, title: def.title, caption: def.caption }];
  };
  const sections: Section[] = r.findings.map((f) => {
    const content = findingContent(f.id, r);
    const blocks: Block[] = [
      { kind: "p", label: "Paper", text: f.paper },
      { kind: "p", label: "Measured", text: f.measured },
    ];
    if (content !== undefined) {
      const shown = content.plots.flatMap(plotBlock);
      if (shown.length === 0)
        blocks.push({ kind: "p", text: "No data was recorded for this finding's plots." });
      blocks.push(...shown, ...content.tables);
    }
    return { anchor: anchorOf(f.id, taken), title: f.title, finding: f, blocks };
  });
  // Plots no finding claimed (e.g. a finding missing from the results) still get shown.
  const rest = [...plots.keys()].filter((n) => !placed.has(n)).flatMap(plotBlock);
  if (rest.length > 0) sections.push({ anchor: "other", title: "Other measurements", blocks: rest });
  return sections;
}

// ---------------------------------------------------------------- HTML

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.sub { color: #666; margin-top: 0; }
.summary { border: 1px solid #bbb; background: #f7f7f7; padding: 0.8em 1.2em; }
.summary h2 { margin-top: 0.3em; border: none; }
.summary ul { list-style: none; padding: 0; margin: 0; }
.summary li { margin: 0.6em 0; }
.summary .measured { color: #444; font-size: 0.92em; }
.badge { display: inline-block; min-width: 8.5em; padding: 0.05em 0.5em; border-radius: 3px; font-size: 0.85em; font-weight: bold; margin-right: 0.5em; }
.badge.yes { background: #dcefe0; color: #14632b; border: 1px solid #8fc39d; }
.badge.no { background: #f6dcdc; color: #8a1c1c; border: 1px solid #d99a9a; }
.badge.unknown { background: #ececec; color: #555; border: 1px solid #bbb; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: 0.3em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #999; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 1.5em; overflow-x: auto; }
figcaption { color: #555; font-size: 0.88em; max-width: 60em; }
figure svg { display: block; max-width: 100%; height: auto; }
.label { font-weight: bold; }
a { color: #0b5394; }
`;

function htmlTable(t: Table): string {
  const num = new Set(t.numeric);
  const headless = t.head.every((h) => h === "");
  const head = headless
    ? ""
    : `<thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`;
  const rows = t.rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => `<td${num.has(i) ? ' class="n"' : ""}>${escapeHtml(c)}</td>`).join("")}</tr>`,
    )
    .join("\n");
  return `<table><caption>${escapeHtml(t.caption)}</caption>${head}<tbody>\n${rows}\n</tbody></table>`;
}

function htmlBadge(reproduced: boolean | null): string {
  const b = badge(reproduced);
  return `<span class="badge ${b.cls}">${b.symbol} ${escapeHtml(b.text)}</span>`;
}

function htmlBlock(b: Block, svgs: Record<string, string>): string {
  switch (b.kind) {
    case "p":
      return `<p>${b.label === undefined ? "" : `<span class="label">${escapeHtml(b.label)}:</span> `}${escapeHtml(b.text)}</p>`;
    case "table":
      return htmlTable(b);
    case "plot":
      return `<figure id="plot-${b.name}"><h3>${escapeHtml(b.title)}</h3>\n${inlineSvg(svgs[b.name] ?? "")}\n<figcaption>${escapeHtml(b.caption)}</figcaption></figure>`;
  }
}

function renderHtml(
  r: ExperimentResults,
  setup: Block[],
  models: Table,
  sections: Section[],
  svgs: Record<string, string>,
): string {
  const summary = sections
    .filter((s) => s.finding !== undefined)
    .map((s) => {
      const f = s.finding!;
      return `<li>${htmlBadge(f.reproduced)}<a href="#${s.anchor}">${escapeHtml(f.title)}</a><br><span class="measured">${escapeHtml(f.measured)}</span></li>`;
    })
    .join("\n");
  const counts = tally(r.findings);
  const body = sections
    .map((s) => {
      const head =
        s.finding === undefined
          ? escapeHtml(s.title)
          : `${htmlBadge(s.finding.reproduced)}${escapeHtml(s.title)}`;
      return `<section id="${s.anchor}"><h2>${head}</h2>\n${s.blocks.map((b) => htmlBlock(b, svgs)).join("\n")}\n</section>`;
    })
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DataScale reproduction report — ${escapeHtml(r.scale)}, seed ${r.seed}</title>
<style>${CSS}</style>
</head>
<body>
<h1>DataScale: reproducing data scaling in RLHF at small scale</h1>
<p class="sub">Shen et al., 2025 (arXiv 2503.22230) on a procedural world with tiny CPU-trained models. Scale ${escapeHtml(r.scale)}, seed ${r.seed}, finished ${escapeHtml(r.finishedAt)}.</p>
<div class="summary" id="summary"><h2>Findings: ${escapeHtml(counts)}</h2>
<ul>
${summary || "<li>No findings were recorded.</li>"}
</ul></div>
<section id="setup"><h2>Setup</h2>
${setup.map((b) => htmlBlock(b, svgs)).join("\n")}
</section>
<section id="models"><h2>Reward models</h2>
${htmlTable(models)}
</section>
${body}
</body>
</html>
`;
}

function tally(findings: readonly Finding[]): string {
  const n = (v: boolean | null) => findings.filter((f) => f.reproduced === v).length;
  return `${n(true)} reproduced, ${n(false)} not reproduced, ${n(null)} inconclusive`;
}

// ---------------------------------------------------------------- markdown

function mdTable(t: Table): string {
  const num = new Set(t.numeric);
  const head = t.head.map((h) => (h === "" ? " " : escapeMarkdown(h)));
  const rule = t.head.map((_, i) => (num.has(i) ? "---:" : "---"));
  const rows = t.rows.map((row) => `| ${row.map((c) => escapeMarkdown(c) || " ").join(" | ")} |`);
  return `${escapeMarkdown(t.caption)}\n\n| ${head.join(" | ")} |\n|${rule.join("|")}|\n${rows.join("\n")}\n`;
}

function mdBlock(b: Block): string {
  switch (b.kind) {
    case "p":
      return `${b.label === undefined ? "" : `**${escapeMarkdown(b.label)}:** `}${escapeMarkdown(b.text)}\n`;
    case "table":
      return mdTable(b);
    case "plot":
      return `### ${escapeMarkdown(b.title)}\n\n![${escapeMarkdown(b.title)}](plots/${b.name}.svg)\n\n${escapeMarkdown(b.caption)}\n`;
  }
}

function mdBadge(reproduced: boolean | null): string {
  const b = badge(reproduced);
  return `${b.symbol} ${b.text}`;
}

function renderMarkdown(r: ExperimentResults, setup: Block[], models: Table, sections: Section[]): string {
  const out: string[] = [
    "# DataScale: reproducing data scaling in RLHF at small scale\n",
    `Shen et al., 2025 (arXiv 2503.22230) on a procedural world with tiny CPU-trained models. Scale ${escapeMarkdown(r.scale)}, seed ${r.seed}, finished ${escapeMarkdown(r.finishedAt)}.\n`,
    `## Findings: ${tally(r.findings)}\n`,
  ];
  const summary = sections.filter((s) => s.finding !== undefined);
  if (summary.length === 0) out.push("No findings were recorded.\n");
  for (const s of summary) {
    const f = s.finding!;
    out.push(
      `- **${mdBadge(f.reproduced)}**: [${escapeMarkdown(f.title)}](#${s.anchor}) — ${escapeMarkdown(f.measured)}`,
    );
  }
  out.push("", "## Setup\n", ...setup.map(mdBlock), "## Reward models\n", mdTable(models));
  for (const s of sections) {
    const head = s.finding === undefined ? "" : `${mdBadge(s.finding.reproduced)}: `;
    out.push(`<a id="${s.anchor}"></a>\n\n## ${head}${escapeMarkdown(s.title)}\n`, ...s.blocks.map(mdBlock));
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------- API

/**
 * Renders the report. `svgs` holds each plot as a standalone SVG file's text, keyed by plot
 * name; the HTML inlines the same SVGs, the markdown links them as `plots/<name>.svg`.
 */
export async function renderReport(
  results: ExperimentResults,
): Promise<{ html: string; markdown: string; svgs: Record<string, string> }> {
  const plots = plotDefs(results);
  const svgs: Record<string, string> = {};
  for (const [name, def] of plots) svgs[name] = await renderSvg(name, def.spec);
  const setup = setupBlocks(results);
  const models = modelsTable(results);
  const sections = buildSections(results, plots);
  return {
    html: renderHtml(results, setup, models, sections, svgs),
    markdown: renderMarkdown(results, setup, models, sections),
    svgs,
  };
}

/** Writes report.html, report.md and plots/<name>.svg into `dir`; returns the paths written. */
export async function writeReport(dir: string, results: ExperimentResults): Promise<string[]> {
  const { html, markdown, svgs } = await renderReport(results);
  await mkdir(join(dir, "plots"), { recursive: true });
  const written: string[] = [];
  const put = async (path: string, text: string) => {
    await writeFileAtomic(path, text);
    written.push(path);
  };
  await put(join(dir, "report.html"), html);
  await put(join(dir, "report.md"), markdown);
  for (const [name, svg] of Object.entries(svgs)) await put(join(dir, "plots", `${name}.svg`), svg);
  return written;
}

/** Reads and validates a results.json; errors name the file and the bad field. */
export async function loadResults(path: string): Promise<ExperimentResults> {
  const raw = await readJsonFile(path, "bad_results");
  const parsed = ExperimentResults.safeParse(raw);
  if (!parsed.success) throw new DataScaleError("bad_results", `${path}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
