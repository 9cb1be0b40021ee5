// The paper's claims, each decided by the rule in docs/experiment.md from paired per-seed
// differences: an effect per seed (in the paper's direction) with its within-seed error,
// pooled into a 95 % interval, and a verdict against the smallest effect of interest δ.
// The sentence always carries the numbers and intervals, so a reader can judge margins.
import type {
  Comparison,
  EvalPoint,
  Finding,
  GaoFit,
  PooledResults,
  Precondition,
  RunCurve,
  SeedResults,
} from "./results.ts";
import {
  binomialSe,
  combineVerdicts,
  differenceSe,
  fitGao,
  MIN_SEEDS,
  pooledEstimate,
  verdictOf,
} from "./stats.ts";

type Figure = { value: number; se: number } | undefined;
type PerSeed = (r: SeedResults) => Figure;

interface ComparisonDef {
  id: string;
  label: string;
  unit: Comparison["unit"];
  delta: number;
  perSeed: PerSeed;
}

interface FindingDef {
  id: string;
  title: string;
  paper: string;
  comparisons: ComparisonDef[];
  preconditions: string[];
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: readonly number[]): number => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
};

const GOLD_DELTA = 0.05;

function run(r: SeedResults, name: string): RunCurve | undefined {
  return [...r.ladder, ...r.comparison].find((c) => c.name === name);
}

/** Held-out gold at a point, with its sampling error. */
function heldout(p: EvalPoint | undefined): Figure {
  return p === undefined
    ? undefined
    : { value: p.heldout.overall, se: binomialSe(p.heldout.overall, p.heldout.n) };
}

function finalPoint(c: RunCurve | undefined): EvalPoint | undefined {
  return c?.points.at(-1);
}

function bestPoint(c: RunCurve | undefined): EvalPoint | undefined {
  return c?.points.find((p) => p.step === c.best.step);
}

function minus(a: Figure, b: Figure): Figure {
  return a === undefined || b === undefined
    ? undefined
    : { value: a.value - b.value, se: differenceSe(a.se, b.se) };
}

const finalGold = (name: string) => (r: SeedResults) => heldout(finalPoint(run(r, name)));

function ladderDiff(a: string, b: string, label: string): ComparisonDef {
  return {
    id: `final-gold ${a} − ${b}`,
    label,
    unit: "gold",
    delta: GOLD_DELTA,
    perSeed: (r) => minus(finalGold(`ladder-${a}`)(r), finalGold(`ladder-${b}`)(r)),
  };
}

function nearGap(r: SeedResults, source: string): Figure {
  const near = r.sensitivity.find((s) => s.source === source)?.near;
  if (near === undefined || near.pairs === 0) return undefined;
  return { value: near.meanGap, se: near.sdGap / Math.sqrt(near.pairs) };
}

/** SFT gold on the whole pool − on the kept prompts, filtered domains, weighted by prompts. */
function selectionEffect(r: SeedResults): Figure {
  const ds = r.selection.domains.filter((d) => d.filtered && d.pool > 0);
  const weighted = (f: (d: (typeof ds)[number]) => number | null, w: (d: (typeof ds)[number]) => number) => {
    const total = ds.reduce((a, d) => a + (f(d) === null ? 0 : w(d)), 0);
    return total === 0 ? undefined : { p: ds.reduce((a, d) => a + (f(d) ?? 0) * w(d), 0) / total, n: total };
  };
  const pool = weighted(
    (d) => d.goldPool,
    (d) => d.pool,
  );
  const kept = weighted(
    (d) => d.goldKept,
    (d) => d.kept,
  );
  if (pool === undefined || kept === undefined) return undefined;
  const k = r.selection.samples;
  return minus(
    { value: pool.p, se: binomialSe(pool.p, pool.n * k) },
    { value: kept.p, se: binomialSe(kept.p, kept.n * k) },
  );
}

/** Mean math+code held-out gold over the evaluations of stage 1 (0 < step ≤ stage-1 end). */
function earlyMathCode(r: SeedResults, name: string): Figure {
  const c = run(r, name);
  if (c === undefined) return undefined;
  const stage1 = r.world.steps.stage1 ?? 0;
  let pts = c.points.filter((p) => p.step > 0 && p.step <= stage1);
  if (pts.length === 0) pts = c.points.filter((p) => p.step > 0).slice(0, 1);
  if (pts.length === 0) return undefined;
  const per = pts.map((p) => {
    const n = ["math", "code"].reduce((a, d) => a + (p.heldout.nByDomain[d] ?? 0), 0);
    const s = ["math", "code"].reduce(
      (a, d) => a + (p.heldout.byDomain[d] ?? 0) * (p.heldout.nByDomain[d] ?? 0),
      0,
    );
    return { p: n === 0 ? 0 : s / n, n };
  });
  const value = mean(per.map((x) => x.p));
  // Successive evaluations of one run are correlated: the error is that of one evaluation.
  return { value, se: binomialSe(value, mean(per.map((x) => x.n))) };
}

function entropyFall(r: SeedResults): Figure {
  const falls = [...r.ladder, ...r.comparison]
    .filter((c) => c.points.length >= 2)
    .map((c) => c.points[0]!.entropy - c.points.at(-1)!.entropy);
  return falls.length === 0 ? undefined : { value: mean(falls), se: sd(falls) / Math.sqrt(falls.length) };
}

export const FINDINGS: readonly FindingDef[] = [
  {
    id: "reward-ladder",
    title: "Reward sources differ in resistance to hacking",
    paper:
      "Resistance to reward hacking: RTV > GenRM with ground truth > GenRM with SFT Best-of-N ≈ BT RM (gold keeps rising under RTV, peaks earlier and falls under the weaker judges).",
    comparisons: [
      ladderDiff("rtv", "genrm-gt", "final held-out gold, RTV − GenRM-GT"),
      ladderDiff("genrm-gt", "genrm-bon", "final held-out gold, GenRM-GT − GenRM-BoN"),
      ladderDiff("genrm-gt", "bt", "final held-out gold, GenRM-GT − BT"),
    ],
    preconditions: ["genrm-gt-accuracy", "bt-accuracy", "bon-lift", "rl-generalises"],
  },
  {
    id: "fine-grained",
    title: "Ground-truth judges see small differences",
    paper:
      "RTV and GenRM with ground truth separate near-identical responses; judges without ground truth only separate responses that differ a lot.",
    comparisons: (["genrm-bon", "bt"] as const).map((other) => ({
      id: `near-gap genrm-gt − ${other}`,
      label: `mean score gap at edit distance < 0.2, GenRM-GT − ${other === "bt" ? "BT" : "GenRM-BoN"}`,
      unit: "score" as const,
      delta: 0.05,
      perSeed: (r: SeedResults) => minus(nearGap(r, "genrm-gt"), nearGap(r, other)),
    })),
    preconditions: ["genrm-gt-accuracy"],
  },
  {
    id: "selection",
    title: "Pre-PPO selection keeps hard prompts",
    paper:
      "Most new prompts score above 0.5 against the reference; keeping the lowest-scoring ≈10% after per-domain normalisation picks prompts that are hard for the policy.",
    comparisons: [
      {
        id: "selection pool − kept",
        label: "SFT gold on the filtered pool − on the kept prompts",
        unit: "gold",
        delta: GOLD_DELTA,
        perSeed: selectionEffect,
      },
    ],
    preconditions: ["genrm-gt-accuracy", "bon-lift"],
  },
  {
    id: "datascale",
    title: "DataScale beats the all-prompts baseline",
    paper:
      "DataScale (Pre-PPO selection + math and code first) beats the baseline that trains on all new prompts (best checkpoint, held-out).",
    comparisons: [
      {
        id: "best-gold datascale − baseline",
        label: "best held-out gold, DataScale − baseline",
        unit: "gold",
        delta: GOLD_DELTA,
        perSeed: (r) =>
          minus(heldout(bestPoint(run(r, "datascale"))), heldout(bestPoint(run(r, "baseline")))),
      },
    ],
    preconditions: ["rl-generalises", "genrm-gt-accuracy", "bon-lift"],
  },
  {
    id: "math-code-first",
    title: "Math and code first lifts math and code early",
    paper:
      "Training on math and code first lifts those abilities early (coding surpasses the baseline within the first ≈1,000 of 3,500 steps).",
    comparisons: [
      {
        id: "early math+code curriculum-only − baseline",
        label: "math+code held-out gold during stage 1, curriculum-only − baseline",
        unit: "gold",
        delta: GOLD_DELTA,
        perSeed: (r) => minus(earlyMathCode(r, "curriculum-only"), earlyMathCode(r, "baseline")),
      },
    ],
    preconditions: ["rl-generalises"],
  },
  {
    id: "entropy",
    title: "Entropy falls during PPO",
    paper: "Response diversity falls during PPO: mean token entropy ≈0.60 → 0.35 within ≈1,000 steps.",
    comparisons: [
      {
        id: "entropy first − last",
        label: "token entropy, first − last evaluation, mean over the PPO runs",
        unit: "nats",
        delta: 0.05,
        perSeed: entropyFall,
      },
    ],
    preconditions: [],
  },
];

function decide(def: ComparisonDef, seeds: readonly SeedResults[]): Comparison {
  const per = seeds.flatMap((r) => {
    const x = def.perSeed(r);
    return x === undefined || !Number.isFinite(x.value) ? [] : [{ seed: r.seed, value: x.value, se: x.se }];
  });
  const effect = pooledEstimate(per);
  const { verdict, why } =
    per.length === 0
      ? { verdict: "inconclusive" as const, why: "not measured" }
      : verdictOf(effect, def.delta);
  return { id: def.id, label: def.label, unit: def.unit, delta: def.delta, effect, verdict, why };
}

/** An effect as text: points for gold, plain numbers otherwise. */
export function formatEffect(c: Pick<Comparison, "unit">, x: number): string {
  const sign = x >= 0 ? "+" : "−";
  return c.unit === "gold"
    ? `${sign}${(100 * Math.abs(x)).toFixed(1)} pt`
    : `${sign}${Math.abs(x).toFixed(3)}`;
}

export function describe(c: Comparison): string {
  const e = c.effect;
  return `${c.label}: ${formatEffect(c, e.mean)} [${formatEffect(c, e.lo)}, ${formatEffect(c, e.hi)}] — ${c.verdict} (${c.why})`;
}

const PRECONDITIONS: { id: string; label: string; threshold: number; perSeed: PerSeed; byInterval?: true }[] =
  [
    {
      id: "genrm-gt-accuracy",
      label: "GenRM with ground truth: held-out balanced accuracy ≥ 0.90",
      threshold: 0.9,
      perSeed: (r) => ({
        value: r.models.genrm.gtAccuracy,
        se: binomialSe(r.models.genrm.gtAccuracy, r.models.genrm.gtItems),
      }),
    },
    {
      id: "bt-accuracy",
      label: "BT RM: held-out pairwise accuracy ≥ 0.75",
      threshold: 0.75,
      perSeed: (r) => ({
        value: r.models.bt.accuracy,
        se: binomialSe(r.models.bt.accuracy, r.models.bt.pairs),
      }),
    },
    {
      id: "bon-lift",
      label: "BT Best-of-N reference − one SFT sample ≥ +5 gold points",
      threshold: 0.05,
      perSeed: (r) => {
        const b = r.models.bon;
        return minus(
          { value: b.bonGold, se: binomialSe(b.bonGold, b.prompts) },
          { value: b.sampleGold, se: binomialSe(b.sampleGold, b.prompts) },
        );
      },
    },
    {
      id: "rl-generalises",
      label: "RL generalises: held-out gold under RTV, final − start, interval above 0",
      threshold: 0,
      byInterval: true,
      perSeed: (r) => {
        const c = run(r, "ladder-rtv");
        return minus(heldout(finalPoint(c)), heldout(c?.points[0]));
      },
    },
  ];

export function preconditions(seeds: readonly SeedResults[]): Precondition[] {
  return PRECONDITIONS.map((p) => {
    const per = seeds.flatMap((r) => {
      const x = p.perSeed(r);
      return x === undefined ? [] : [{ seed: r.seed, ...x }];
    });
    const estimate = pooledEstimate(per);
    const met = per.length > 0 && (p.byInterval ? estimate.lo > 0 : estimate.mean >= p.threshold);
    return { id: p.id, label: p.label, threshold: p.threshold, estimate, met };
  });
}

export function deriveFindings(seeds: readonly SeedResults[], pre = preconditions(seeds)): Finding[] {
  return FINDINGS.map((def) => {
    const comparisons = def.comparisons.map((c) => decide(c, seeds));
    const verdict = combineVerdicts(comparisons.map((c) => c.verdict));
    const few =
      seeds.length < MIN_SEEDS
        ? ` With ${seeds.length} seed(s) nothing is decided (the rule needs ${MIN_SEEDS}).`
        : "";
    return {
      id: def.id,
      title: def.title,
      paper: def.paper,
      measured: `${comparisons.map(describe).join("; ")}.${few}`,
      verdict,
      reproduced: verdict === "reproduced" ? true : verdict === "not reproduced" ? false : null,
      comparisons,
      unmet: def.preconditions.filter((id) => pre.find((p) => p.id === id)?.met === false),
    };
  });
}

/** Gao et al.'s fit per reward source: held-out gold lift over the start against √KL, every seed's ladder run. */
export function gaoFits(seeds: readonly SeedResults[]): GaoFit[] {
  const sources = [...new Set(seeds.flatMap((r) => r.ladder.map((c) => c.name.replace(/^ladder-/, ""))))];
  return sources.map((source) => {
    const points = seeds.flatMap((r) => {
      const c = run(r, `ladder-${source}`);
      const start = c?.points[0]?.heldout.overall ?? 0;
      return (c?.points ?? []).map((p) => ({
        d: Math.sqrt(Math.max(0, p.kl)),
        lift: p.heldout.overall - start,
      }));
    });
    return { source, ...fitGao(points) };
  });
}

export function poolSeeds(seeds: readonly SeedResults[], wallSeconds: number): PooledResults {
  const pre = preconditions(seeds);
  return {
    version: 2,
    kind: "pooled",
    scale: seeds[0]?.scale ?? "",
    seeds: seeds.map((r) => r.seed),
    wallSeconds,
    finishedAt: new Date().toISOString(),
    findings: deriveFindings(seeds, pre),
    preconditions: pre,
    gao: gaoFits(seeds),
  };
}
