// The report of the main job: one self-contained HTML file (inline SVG plots and CSS, no
// scripts, no external URLs) and a markdown twin that links the same plots as SVG files.
// Both are rendered from one document model so they carry the same tables; the plots are
// Vega-Lite specs (plots.ts) rendered to SVG in Node, without a browser or canvas.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../io/rundir.ts";
import { type AggCurve, aggregate, smoothingWindow } from "./aggregate.ts";
import { formatEffect } from "./findings.ts";
import {
  colourTable,
  comparisonDomainsSpec,
  comparisonGoldSpec,
  diversitySpec,
  effectsSpec,
  evalDomains,
  gaoSpec,
  ladderGoldSpec,
  ladderProxySpec,
  selectionSpec,
  sensitivitySpec,
} from "./plots.ts";
import type { Comparison, Estimate, Finding, PooledResults, SeedResults } from "./results.ts";
import { binomialSe, pooledEstimate } from "./stats.ts";

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

/** "N parameters: dim d, L layers, H heads". */
function shapeText(m: SeedResults["world"]["model"]): string {
  return `${m.params.toLocaleString("en-US")} parameters: dim ${m.dim}, ${m.nLayers} layers, ${m.nHeads} heads`;
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

interface Curves {
  ladder: AggCurve[];
  comparison: AggCurve[];
}

type Colours = ReturnType<typeof colourTable>;

const bandNote = (seeds: readonly SeedResults[]) =>
  `mean over ${seeds.length} seed(s); the band runs from the lowest to the highest seed`;

function ladderPlots(
  pooled: PooledResults,
  seeds: readonly SeedResults[],
  ladder: AggCurve[],
  colours: Colours,
): PlotDef[] {
  if (!ladder.some((c) => c.points.length > 0)) return [];
  const band = bandNote(seeds);
  return [
    {
      name: "ladder-gold",
      title: "Reward ladder: held-out gold of the policy's samples",
      caption: `PPO on the same prompts with one reward source each; gold = the verifier on the policy's samples (temperature 1) for the held-out prompts; ${band}.`,
      spec: ladderGoldSpec(ladder, colours),
    },
    {
      name: "ladder-gao",
      title: "Reward ladder: Gao et al.'s gold against √KL, with the fit",
      caption:
        "Over-optimisation after Gao et al.: every evaluation of every seed's ladder run, gold lift over the run's start against the square root of the per-sequence KL from the SFT policy, and the least-squares fit gold = d(α − β log d) per source (table below). Right: the proxy each run optimises at the same evaluations; hacking shows as the proxy rising while gold flattens or falls.",
      spec: gaoSpec(seeds, pooled.gao, colours),
    },
    {
      name: "ladder-proxy",
      title: "Reward ladder: training reward (proxy) against step",
      caption: `Mean training reward per PPO step under each run's own reward source, each seed smoothed by a moving average over ${smoothingWindow(seeds[0]?.ladder[0]?.trainReward.length ?? 0)} step(s); ${band}.`,
      spec: ladderProxySpec(ladder, colours),
    },
    {
      name: "diversity-ladder",
      title: "Response diversity: ladder runs",
      caption: `Mean token entropy of sampled responses and the mean over prompts of the maximum pairwise normalised edit distance among the samples; ${band}.`,
      spec: diversitySpec(ladder, colours),
    },
  ];
}

function comparisonPlots(seeds: readonly SeedResults[], comparison: AggCurve[], colours: Colours): PlotDef[] {
  if (!comparison.some((c) => c.points.length > 0)) return [];
  const band = bandNote(seeds);
  return [
    {
      name: "comparison-gold",
      title: "Baseline vs DataScale and ablations: held-out gold",
      caption: `Held-out gold (all domains) of the policy's samples; the paper reports the best checkpoint; ${band}.`,
      spec: comparisonGoldSpec(comparison, colours),
    },
    {
      name: "comparison-domains",
      title: "Baseline vs DataScale and ablations: held-out gold per domain",
      caption: `The same runs, held-out gold per domain (y scales differ between panels); ${band}.`,
      spec: comparisonDomainsSpec(comparison, colours),
    },
    {
      name: "diversity-comparison",
      title: "Response diversity: comparison runs",
      caption: `Mean token entropy of sampled responses and the mean over prompts of the maximum pairwise normalised edit distance among the samples; ${band}.`,
      spec: diversitySpec(comparison, colours),
    },
  ];
}

function dataPlots(seeds: readonly SeedResults[], colours: Colours): PlotDef[] {
  const defs: PlotDef[] = [];
  if (seeds.some((r) => r.sensitivity.some((s) => s.bins.some((b) => b.pairs > 0)))) {
    defs.push({
      name: "sensitivity",
      title: "Judge sensitivity: score gap against edit distance",
      caption: `Pairs of responses to the same held-out prompt, binned by normalised edit distance; left: the mean absolute score gap each reward source gives a pair, right: the share of pairs it scores apart; ${bandNote(seeds)}. A source that sees fine-grained differences has a large gap already at small distances.`,
      spec: sensitivitySpec(seeds, colours),
    });
  }
  const sel = seeds[0]?.selection;
  if (sel !== undefined && sel.domains.length > 0) {
    defs.push({
      name: "selection",
      title: "Pre-PPO selection per domain",
      caption: `Scores of the new prompt pool under the hybrid reward (${sel.samples} samples per prompt, ${sel.normalisation} normalisation per domain, keep ${pct(sel.keep)} of the filtered domains), mean over seeds. Gold = the SFT policy's verifier score on the kept prompts vs the whole pool (rule: seed range): the selection should keep hard prompts.`,
      spec: selectionSpec(seeds),
    });
  }
  return defs;
}

/** Every plot the results have data for, keyed by the file name it is written under. */
function plotDefs(
  pooled: PooledResults,
  seeds: readonly SeedResults[],
  curves: Curves,
): Map<string, PlotDef> {
  const colours = colourTable(seeds);
  const effects: PlotDef[] = pooled.findings.some((f) => f.comparisons.length > 0)
    ? [
        {
          name: "effects",
          title: "Every comparison: effect, 95 % interval and each seed",
          caption:
            "Each finding's effects in the paper's direction (positive = as the paper says). Bar: the pooled 95 % interval (docs/experiment.md); large dot: the mean over seeds; small circles: the seeds. Solid line: 0; dashed line: δ, the smallest effect of interest. Reproduced when the bar lies right of 0; not reproduced when it ends left of δ.",
          spec: effectsSpec(pooled),
        },
      ]
    : [];
  const defs = [
    ...effects,
    ...ladderPlots(pooled, seeds, curves.ladder, colours),
    ...dataPlots(seeds, colours),
    ...comparisonPlots(seeds, curves.comparison, colours),
  ];
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

const seedCols = (seeds: readonly SeedResults[]) => seeds.map((r) => `seed ${r.seed}`);

/** A pooled figure as "mean [lo, hi]". */
function interval(e: Estimate, f: (x: number) => string): string {
  return `${f(e.mean)} [${f(e.lo)}, ${f(e.hi)}]`;
}

function comparisonTable(f: Finding, seeds: readonly SeedResults[]): Table {
  const fmt = (c: Comparison) => (x: number) => formatEffect(c, x);
  return {
    kind: "table",
    caption:
      "The finding's comparisons: each seed's effect in the paper's direction, the mean over seeds with its 95 % interval, δ and the verdict (docs/experiment.md, the decision rule).",
    head: ["comparison", ...seedCols(seeds), "mean [95 % interval]", "δ", "verdict"],
    numeric: seeds.map((_, i) => i + 1),
    rows: f.comparisons.map((c) => [
      c.label,
      ...seeds.map((r) => {
        const v = c.effect.perSeed.find((p) => p.seed === r.seed);
        return v === undefined ? DASH : `${fmt(c)(v.value)} ± ${fmt(c)(1.96 * v.se).replace(/^\+/, "")}`;
      }),
      interval(c.effect, fmt(c)),
      formatEffect(c, c.delta).replace(/^\+/, ""),
      `${c.verdict} (${c.why})`,
    ]),
  };
}

function runTable(caption: string, curves: readonly AggCurve[]): Table {
  const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    kind: "table",
    caption,
    head: [
      "run",
      "what it trains on",
      "start",
      "best",
      "peak steps",
      "final",
      "final proxy",
      "final √KL",
      "train-prompt gold, final",
    ],
    numeric: [2, 3, 5, 6, 7, 8],
    rows: curves.map((c) => {
      const last = c.points.at(-1);
      return [
        c.name,
        c.description,
        pct(m(c.perSeed.map((p) => p.start))),
        pct(m(c.perSeed.map((p) => p.best))),
        c.perSeed.map((p) => String(p.bestStep)).join(", "),
        pct(m(c.perSeed.map((p) => p.final))),
        fixed(last?.proxy.mean),
        fixed(last?.kl.mean),
        pct(last?.gold.mean),
      ];
    }),
  };
}

function domainTable(caption: string, curves: readonly AggCurve[]): Table {
  const domains = evalDomains(curves);
  return {
    kind: "table",
    caption,
    head: ["run", ...domains.flatMap((d) => [`${d} best`, `${d} final`])],
    numeric: domains.flatMap((_, i) => [1 + 2 * i, 2 + 2 * i]),
    rows: curves.map((c) => [
      c.name,
      ...domains.flatMap((d) => {
        const xs = c.points.flatMap((p) =>
          p.step > 0 && Number.isFinite(p.domains[d]?.mean) ? [p.domains[d]!.mean] : [],
        );
        return [xs.length === 0 ? DASH : pct(Math.max(...xs)), pct(c.points.at(-1)?.domains[d]?.mean)];
      }),
    ]),
  };
}

function diversityTable(caption: string, curves: readonly AggCurve[]): Table {
  return {
    kind: "table",
    caption,
    head: ["run", "entropy start", "entropy final", "max edit distance start", "max edit distance final"],
    numeric: [1, 2, 3, 4],
    rows: curves.map((c) => {
      const [first, last] = [c.points[0], c.points.at(-1)];
      return [
        c.name,
        fixed(first?.entropy.mean),
        fixed(last?.entropy.mean),
        fixed(first?.edit.mean),
        fixed(last?.edit.mean),
      ];
    }),
  };
}

function sensitivityTable(seeds: readonly SeedResults[]): Table {
  const sources = [...new Set(seeds.flatMap((r) => r.sensitivity.map((s) => s.source)))];
  return {
    kind: "table",
    caption:
      "Near-identical responses (normalised edit distance < 0.2): mean score gap per seed (pairs in brackets) — the figure the fine-grained finding compares.",
    head: ["source", ...seedCols(seeds)],
    numeric: seeds.map((_, i) => i + 1),
    rows: sources.map((source) => [
      source,
      ...seeds.map((r) => {
        const near = r.sensitivity.find((s) => s.source === source)?.near;
        return near === undefined || near.pairs === 0 ? DASH : `${fixed(near.meanGap)} (${near.pairs})`;
      }),
    ]),
  };
}

function selectionTable(seeds: readonly SeedResults[]): Table {
  const first = seeds[0]!.selection;
  const m = (f: (r: SeedResults) => number | null) => {
    const xs = seeds.flatMap((r) => (f(r) === null ? [] : [f(r)!]));
    return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return {
    kind: "table",
    caption: `Pre-PPO selection (mean over seeds): keep ${pct(first.keep)}, ${first.samples} samples per prompt, ${first.normalisation} normalisation within each domain.`,
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
    rows: first.domains.map((d) => {
      const of = (r: SeedResults) => r.selection.domains.find((x) => x.domain === d.domain);
      return [
        d.domain,
        d.filtered ? "yes" : "no (kept whole)",
        fixed(
          m((r) => of(r)?.pool ?? null),
          0,
        ),
        fixed(
          m((r) => of(r)?.kept ?? null),
          1,
        ),
        fixed(m((r) => of(r)?.meanScore ?? null)),
        pct(m((r) => of(r)?.aboveHalf ?? null)),
        pct(m((r) => of(r)?.goldKept ?? null)),
        pct(m((r) => of(r)?.goldPool ?? null)),
      ];
    }),
  };
}

function gaoTable(pooled: PooledResults): Table {
  return {
    kind: "table",
    caption:
      "Gao et al.'s fit per reward source, held-out gold lift = d(α − β log d), d = √KL, least squares over every seed's evaluations (d > 0); d* = exp(α/β − 1) is where the fitted gold peaks (only when β > 0).",
    head: ["source", "α", "β", "R²", "points", "peak d*"],
    numeric: [1, 2, 3, 4, 5],
    rows: pooled.gao.map((g) => [
      g.source,
      fixed(g.alpha),
      fixed(g.beta),
      fixed(g.r2, 2),
      String(g.points),
      fixed(g.peak, 2),
    ]),
  };
}

function setupBlocks(pooled: PooledResults, seeds: readonly SeedResults[]): Block[] {
  const r = seeds[0]!;
  const kv = (caption: string, entries: [string, string][]): Table => ({
    kind: "table",
    caption,
    head: ["", ""],
    numeric: [],
    rows: entries.map(([k, v]) => [k, v]),
  });
  return [
    kv("Run", [
      ["scale", pooled.scale],
      ["seeds", pooled.seeds.join(", ")],
      ["finished", pooled.finishedAt],
      [
        "wall time (this invocation)",
        // A report pooled from seeds that ran elsewhere (--report-only in a new directory) has no run time of its own.
        pooled.wallSeconds > 0
          ? duration(pooled.wallSeconds)
          : "none: pooled from the seeds' results.json (--report-only)",
      ],
      ["wall time per seed", seeds.map((x) => `${x.seed}: ${duration(x.wallSeconds)}`).join("; ")],
      ["kernel", r.kernel],
      ["machine", `${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.platform}`],
      ["policy model", shapeText(r.world.model)],
      ["judges' model", r.world.judgeModel === undefined ? "the policy's" : shapeText(r.world.judgeModel)],
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
      caption: "Prompts per set (seed 1 of the run; every seed has the same sizes but its own prompts).",
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

/** The judges' quality and the other preconditions: per seed, pooled with its interval, against the bar. */
function modelsTable(pooled: PooledResults, seeds: readonly SeedResults[]): Table {
  const pre = pooled.preconditions.map((p) => [
    p.label,
    ...seeds.map((r) => pct(p.estimate.perSeed.find((x) => x.seed === r.seed)?.value)),
    interval(p.estimate, pct),
    p.met ? "met" : "NOT met",
  ]);
  const sft = [
    "SFT policy: greedy held-out gold, all domains",
    ...seeds.map((r) => pct(r.models.sft.overall)),
    interval(
      pooledEstimate(
        seeds.map((r) => ({
          seed: r.seed,
          value: r.models.sft.overall,
          se: binomialSe(r.models.sft.overall, r.models.sft.n),
        })),
      ),
      pct,
    ),
    "",
  ];
  return {
    kind: "table",
    caption:
      "The judges and the policy on held-out data, per seed and pooled (95 % interval), against the preconditions of the findings: a finding whose precondition is not met keeps its verdict, marked.",
    head: ["measure", ...seedCols(seeds), "mean [95 % interval]", "precondition"],
    numeric: seeds.map((_, i) => i + 1),
    rows: [...pre, sft],
  };
}

/** The plots and tables that belong to each finding (src/experiment/findings.ts). */
function findingContent(
  id: string,
  pooled: PooledResults,
  seeds: readonly SeedResults[],
  curves: Curves,
): { plots: string[]; tables: Table[] } | undefined {
  const runs =
    "Runs, mean over seeds: held-out gold at the start, the best evaluation after step 0 (with each seed's step) and the end; the proxy, √KL and the training prompts' gold at the end.";
  switch (id) {
    case "reward-ladder":
      return {
        plots: ["ladder-gold", "ladder-gao", "ladder-proxy"],
        tables: [runTable(`Ladder. ${runs}`, curves.ladder), gaoTable(pooled)],
      };
    case "fine-grained":
      return { plots: ["sensitivity"], tables: [sensitivityTable(seeds)] };
    case "selection":
      return { plots: ["selection"], tables: [selectionTable(seeds)] };
    case "datascale":
      return { plots: ["comparison-gold"], tables: [runTable(`Comparison. ${runs}`, curves.comparison)] };
    case "math-code-first":
      return {
        plots: ["comparison-domains"],
        tables: [
          domainTable(
            "Comparison runs: best and final held-out gold per domain (mean over seeds).",
            curves.comparison,
          ),
        ],
      };
    case "entropy":
      return {
        plots: ["diversity-comparison", "diversity-ladder"],
        tables: [
          diversityTable(
            "Comparison runs: diversity at the first and last evaluation (mean over seeds).",
            curves.comparison,
          ),
          diversityTable(
            "Ladder runs: diversity at the first and last evaluation (mean over seeds).",
            curves.ladder,
          ),
        ],
      };
    default:
      return undefined;
  }
}

function buildSections(
  pooled: PooledResults,
  seeds: readonly SeedResults[],
  curves: Curves,
  plots: Map<string, PlotDef>,
): Section[] {
  const taken = new Set<string>(["summary", "reading", "setup", "models", "other"]);
  const placed = new Set<string>(["effects"]);
  const plotBlock = (name: string): Block[] => {
    const def = plots.get(name);
    if (def === undefined || placed.has(name)) return [];
    placed.add(name);
    return [{ kind: "plot", name, title: def.title, caption: def.caption }];
  };
  const sections: Section[] = pooled.findings.map((f) => {
    const content = findingContent(f.id, pooled, seeds, curves);
    const blocks: Block[] = [
      { kind: "p", label: "Paper", text: f.paper },
      { kind: "p", label: "Measured", text: f.measured },
    ];
    if (f.unmet.length > 0)
      blocks.push({
        kind: "p",
        label: "Precondition not met",
        text: f.unmet.map((id) => pooled.preconditions.find((p) => p.id === id)?.label ?? id).join("; "),
      });
    if (f.comparisons.length > 0) blocks.push(comparisonTable(f, seeds));
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
.unmet { color: #8a1c1c; font-size: 0.9em; }
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

/** What both renderings show, in order. */
interface Doc {
  sub: string;
  counts: string;
  reading: string;
  effects: Block[];
  setup: Block[];
  models: Table;
  sections: Section[];
}

const READING =
  "Each finding is decided by the rule written in docs/experiment.md before the results: an effect per seed in the paper's direction (positive = as the paper says), pooled over seeds into a 95 % interval that holds both seed-to-seed variation and each seed's sampling error. Reproduced: the interval lies above 0. Not reproduced: its upper end is below δ, the smallest effect of interest (5 gold points for gold). Inconclusive otherwise, and always with fewer than 3 seeds. Plots draw the mean over seeds with a band from the lowest to the highest seed; gold is the verifier's score of the policy's samples on held-out prompts.";

function renderHtml(doc: Doc, svgs: Record<string, string>): string {
  const summary = doc.sections
    .filter((s) => s.finding !== undefined)
    .map((s) => {
      const f = s.finding!;
      const unmet = f.unmet.length > 0 ? ` <span class="unmet">(precondition not met)</span>` : "";
      return `<li>${htmlBadge(f.reproduced)}<a href="#${s.anchor}">${escapeHtml(f.title)}</a>${unmet}<br><span class="measured">${escapeHtml(f.measured)}</span></li>`;
    })
    .join("\n");
  const body = doc.sections
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
<title>DataScale reproduction report — ${escapeHtml(doc.sub)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>DataScale: reproducing data scaling in RLHF at small scale</h1>
<p class="sub">Shen et al., 2025 (arXiv 2503.22230) on a procedural world with tiny CPU-trained models. ${escapeHtml(doc.sub)}.</p>
<div class="summary" id="summary"><h2>Findings: ${escapeHtml(doc.counts)}</h2>
<ul>
${summary || "<li>No findings were recorded.</li>"}
</ul></div>
<section id="reading"><h2>How to read this report</h2>
<p>${escapeHtml(doc.reading)}</p>
${doc.effects.map((b) => htmlBlock(b, svgs)).join("\n")}
</section>
<section id="setup"><h2>Setup</h2>
${doc.setup.map((b) => htmlBlock(b, svgs)).join("\n")}
</section>
<section id="models"><h2>Reward models and preconditions</h2>
${htmlTable(doc.models)}
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

function renderMarkdown(doc: Doc): string {
  const out: string[] = [
    "# DataScale: reproducing data scaling in RLHF at small scale\n",
    `Shen et al., 2025 (arXiv 2503.22230) on a procedural world with tiny CPU-trained models. ${escapeMarkdown(doc.sub)}.\n`,
    `## Findings: ${doc.counts}\n`,
  ];
  const summary = doc.sections.filter((s) => s.finding !== undefined);
  if (summary.length === 0) out.push("No findings were recorded.\n");
  for (const s of summary) {
    const f = s.finding!;
    const unmet = f.unmet.length > 0 ? " (precondition not met)" : "";
    out.push(
      `- **${mdBadge(f.reproduced)}**: [${escapeMarkdown(f.title)}](#${s.anchor})${unmet} — ${escapeMarkdown(f.measured)}`,
    );
  }
  out.push(
    "",
    "## How to read this report\n",
    `${escapeMarkdown(doc.reading)}\n`,
    ...doc.effects.map(mdBlock),
  );
  out.push(
    "## Setup\n",
    ...doc.setup.map(mdBlock),
    "## Reward models and preconditions\n",
    mdTable(doc.models),
  );
  for (const s of doc.sections) {
    const head = s.finding === undefined ? "" : `${mdBadge(s.finding.reproduced)}: `;
    out.push(`<a id="${s.anchor}"></a>\n\n## ${head}${escapeMarkdown(s.title)}\n`, ...s.blocks.map(mdBlock));
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------- API

/**
 * Renders the report of a run: the pooled results and each seed's. `svgs` holds each plot as
 * a standalone SVG file's text, keyed by plot name; the HTML inlines the same SVGs, the
 * markdown links them as `plots/<name>.svg`.
 */
export async function renderReport(
  pooled: PooledResults,
  seeds: readonly SeedResults[],
): Promise<{ html: string; markdown: string; svgs: Record<string, string> }> {
  const curves = {
    ladder: aggregate(seeds, (r) => r.ladder),
    comparison: aggregate(seeds, (r) => r.comparison),
  };
  const plots = plotDefs(pooled, seeds, curves);
  const svgs: Record<string, string> = {};
  for (const [name, def] of plots) svgs[name] = await renderSvg(name, def.spec);
  const effects = plots.get("effects");
  const doc: Doc = {
    sub: `Scale ${pooled.scale}, seeds ${pooled.seeds.join(", ")}, finished ${pooled.finishedAt}`,
    counts: tally(pooled.findings),
    reading: READING,
    effects:
      effects === undefined
        ? []
        : [{ kind: "plot", name: effects.name, title: effects.title, caption: effects.caption }],
    setup: seeds.length === 0 ? [] : setupBlocks(pooled, seeds),
    models: modelsTable(pooled, seeds),
    sections: buildSections(pooled, seeds, curves, plots),
  };
  return { html: renderHtml(doc, svgs), markdown: renderMarkdown(doc), svgs };
}

/** Writes report.html, report.md and plots/<name>.svg into `dir`; returns the paths written. */
export async function writeReport(
  dir: string,
  pooled: PooledResults,
  seeds: readonly SeedResults[],
): Promise<string[]> {
  const { html, markdown, svgs } = await renderReport(pooled, seeds);
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
