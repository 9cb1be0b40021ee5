// The paper's claims, each checked against what this run measured. A finding is "reproduced"
// only when the measurement points the paper's way; the sentence always carries the numbers,
// so a reader can judge margins that a boolean cannot show.
import type { ExperimentResults, Finding, RunCurve } from "./results.ts";

const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const signed = (x: number): string => `${x >= 0 ? "+" : "−"}${(100 * Math.abs(x)).toFixed(1)} pt`;

/**
 * Compares two accuracies measured on n samples each: "above"/"below" only when they differ
 * by more than twice the standard error of the difference, else "tie". The runs are small,
 * so a difference of a point or two is noise, and a finding must not be decided by it.
 */
export function compare(a: number, b: number, n: number): "above" | "below" | "tie" {
  const se = Math.sqrt((a * (1 - a) + b * (1 - b)) / Math.max(1, n));
  if (a - b > 2 * se) return "above";
  if (b - a > 2 * se) return "below";
  return "tie";
}

const TIE_NOTE = "within noise (less than 2 standard errors apart)";

/** Samples behind one gold figure on the original prompts (2 per prompt, see ppo-run.ts). */
function goldSamples(r: ExperimentResults): number {
  return (r.world.sizes.original ?? 0) * 2;
}

function byName(curves: readonly RunCurve[], name: string): RunCurve | undefined {
  return curves.find((c) => c.name === name);
}

/** Gold gain of a run from its start to its last evaluation. */
function goldGain(c: RunCurve): number {
  return c.final.gold - (c.points[0]?.gold.overall ?? 0);
}

function proxyGain(c: RunCurve): number {
  return (c.points.at(-1)?.proxy ?? 0) - (c.points[0]?.proxy ?? 0);
}

/** Mean gold over the given domains across a run's evaluations with step ≤ maxStep (excluding step 0). */
function domainGold(c: RunCurve, domains: readonly string[], maxStep: number): number {
  const pts = c.points.filter((pt) => pt.step > 0 && pt.step <= maxStep);
  return mean(pts.map((pt) => mean(domains.map((d) => pt.gold.byDomain[d] ?? 0))));
}

function ladderFinding(r: ExperimentResults): Finding {
  const get = (s: string) => byName(r.ladder, `ladder-${s}`);
  const rtv = get("rtv");
  const gt = get("genrm-gt");
  const bon = get("genrm-bon");
  const bt = get("bt");
  const paper =
    "Resistance to reward hacking: RTV > GenRM with ground truth > GenRM with SFT Best-of-N ≈ BT RM (gold keeps rising under RTV, peaks earlier and falls under the weaker judges).";
  if (!rtv || !gt || !bon || !bt || rtv.points.length < 2)
    return {
      id: "reward-ladder",
      title: "Reward sources differ in resistance to hacking",
      paper,
      measured: "the ladder runs are missing",
      reproduced: null,
    };
  const parts = [rtv, gt, bon, bt].map(
    (c) =>
      `${c.name.replace("ladder-", "")}: gold ${signed(goldGain(c))} (proxy ${signed(proxyGain(c))}, peak at step ${c.best.step})`,
  );
  // RTV must end clearly above every judge; GenRM-GT clearly above the BoN judge and BT for
  // the whole ladder to hold; a GT-vs-weak-judge gap within noise leaves that rung open.
  const n = goldSamples(r);
  const rtvBest = [gt, bon, bt].every((c) => compare(rtv.final.gold, c.final.gold, n) === "above");
  const weakest = bon.final.gold > bt.final.gold ? bon : bt;
  const gtVsWeak = compare(gt.final.gold, weakest.final.gold, n);
  const verdict = !rtvBest ? false : gtVsWeak === "above" ? true : gtVsWeak === "below" ? false : null;
  const notes = [
    rtvBest ? "RTV ends clearly above every judge" : "RTV does not end clearly above every judge",
    `GenRM-GT vs the better of GenRM-BoN and BT: ${gtVsWeak === "tie" ? TIE_NOTE : gtVsWeak}`,
  ];
  return {
    id: "reward-ladder",
    title: "Reward sources differ in resistance to hacking",
    paper,
    measured: `Gold change on the original prompts (policy samples) from the SFT start to the end of PPO — ${parts.join("; ")}. ${notes.join("; ")}.`,
    reproduced: verdict,
  };
}

function sensitivityFinding(r: ExperimentResults): Finding {
  const paper =
    "RTV and GenRM with ground truth separate near-identical responses; judges without ground truth only separate responses that differ a lot.";
  const near = (source: string): number | null => {
    const c = r.sensitivity.find((s) => s.source === source);
    if (c === undefined) return null;
    const bins = c.bins.filter((b) => b.hi <= 0.2 + 1e-9 && b.pairs > 0 && b.meanGap !== null);
    const pairs = bins.reduce((a, b) => a + b.pairs, 0);
    return pairs === 0 ? null : bins.reduce((a, b) => a + b.pairs * (b.meanGap ?? 0), 0) / pairs;
  };
  const g = { rtv: near("rtv"), gt: near("genrm-gt"), bon: near("genrm-bon"), bt: near("bt") };
  if (Object.values(g).some((x) => x === null))
    return {
      id: "fine-grained",
      title: "Verifiers and ground-truth judges see small differences",
      paper,
      measured: "no near-identical pairs were scored",
      reproduced: null,
    };
  const [rtv, gt, bon, bt] = [g.rtv!, g.gt!, g.bon!, g.bt!];
  return {
    id: "fine-grained",
    title: "Verifiers and ground-truth judges see small differences",
    paper,
    measured: `Mean score gap between responses within normalised edit distance 0.2: RTV ${rtv.toFixed(3)}, GenRM-GT ${gt.toFixed(3)}, GenRM-BoN ${bon.toFixed(3)}, BT ${bt.toFixed(3)}.`,
    reproduced: Math.min(rtv, gt) > Math.max(bon, bt),
  };
}

function selectionFinding(r: ExperimentResults): Finding {
  const filtered = r.selection.domains.filter((d) => d.filtered && d.pool > 0);
  const paper =
    "Most new prompts score above 0.5 against the reference; keeping the lowest-scoring ≈10% after per-domain normalisation picks prompts that are hard for the policy.";
  const kept = filtered.reduce((a, d) => a + d.kept, 0);
  const poolN = filtered.reduce((a, d) => a + d.pool, 0);
  const w = (
    f: (d: (typeof filtered)[number]) => number | null,
    by: (d: (typeof filtered)[number]) => number,
  ) => {
    const total = filtered.reduce((a, d) => a + by(d), 0);
    return total === 0 ? null : filtered.reduce((a, d) => a + (f(d) ?? 0) * by(d), 0) / total;
  };
  const goldKept = w(
    (d) => d.goldKept,
    (d) => d.kept,
  );
  const goldPool = w(
    (d) => d.goldPool,
    (d) => d.pool,
  );
  const above = w(
    (d) => d.aboveHalf,
    (d) => d.pool,
  );
  if (goldKept === null || goldPool === null || above === null)
    return {
      id: "selection",
      title: "Pre-PPO selection keeps hard prompts",
      paper,
      measured: "nothing was selected",
      reproduced: null,
    };
  return {
    id: "selection",
    title: "Pre-PPO selection keeps hard prompts",
    paper,
    measured: `${p(above)} of the filtered domains' new prompts scored above 0.5; the selection kept ${kept} of ${poolN}, on which the SFT policy's gold accuracy is ${p(goldKept)} against ${p(goldPool)} on the whole pool${selTie(goldKept, goldPool, kept * r.selection.samples)}.`,
    reproduced: verdictOf(compare(goldPool, goldKept, kept * r.selection.samples)),
  };
}

function comparisonFinding(r: ExperimentResults): Finding {
  const base = byName(r.comparison, "baseline");
  const ds = byName(r.comparison, "datascale");
  const paper =
    "DataScale (Pre-PPO selection + math and code first) beats the baseline that trains on all new prompts (best checkpoint, held-out).";
  if (!base || !ds)
    return {
      id: "datascale",
      title: "DataScale beats the all-prompts baseline",
      paper,
      measured: "runs missing",
      reproduced: null,
    };
  const others = r.comparison.filter((c) => c !== base && c !== ds).map((c) => `${c.name} ${p(c.best.gold)}`);
  return {
    id: "datascale",
    title: "DataScale beats the all-prompts baseline",
    paper,
    measured: `Best gold on the original prompts: DataScale ${p(ds.best.gold)} (step ${ds.best.step}) vs baseline ${p(base.best.gold)} (step ${base.best.step})${selTie(ds.best.gold, base.best.gold, goldSamples(r))}; final ${p(ds.final.gold)} vs ${p(base.final.gold)}${others.length > 0 ? `; ablations (best): ${others.join(", ")}` : ""}.`,
    reproduced: verdictOf(compare(ds.best.gold, base.best.gold, goldSamples(r))),
  };
}

function curriculumFinding(r: ExperimentResults): Finding {
  const base = byName(r.comparison, "baseline");
  const cur = byName(r.comparison, "curriculum-only");
  const paper =
    "Training on math and code first lifts those abilities early (coding surpasses the baseline within the first ≈1,000 of 3,500 steps).";
  if (!base || !cur)
    return {
      id: "math-code-first",
      title: "Math and code first lifts math and code early",
      paper,
      measured: "runs missing",
      reproduced: null,
    };
  const stage1 = r.world.steps.stage1 ?? Math.round((r.world.steps.ppo ?? 0) * (2 / 7));
  const horizon = Math.max(stage1, r.world.steps.evalEvery ?? 1);
  const a = domainGold(cur, ["math", "code"], horizon);
  const b = domainGold(base, ["math", "code"], horizon);
  // Samples behind each mean: the math and code share of the original prompts × 2, per evaluation.
  const share =
    r.world.families.filter((f) => f.domain === "math" || f.domain === "code").length /
    Math.max(1, r.world.families.length);
  const evals = Math.max(1, Math.floor(horizon / Math.max(1, r.world.steps.evalEvery ?? 1)));
  const n = Math.round(goldSamples(r) * share * evals);
  return {
    id: "math-code-first",
    title: "Math and code first lifts math and code early",
    paper,
    measured: `Mean math+code gold (original prompts) over the first ${horizon} steps: math-and-code-first ${p(a)} vs uniform ${p(b)}${selTie(a, b, n)}.`,
    reproduced: verdictOf(compare(a, b, n)),
  };
}

function entropyFinding(r: ExperimentResults): Finding {
  const runs = [...r.ladder, ...r.comparison].filter((c) => c.points.length >= 2);
  const paper = "Response diversity falls during PPO: mean token entropy ≈0.60 → 0.35 within ≈1,000 steps.";
  if (runs.length === 0)
    return { id: "entropy", title: "Entropy falls during PPO", paper, measured: "no runs", reproduced: null };
  const first = mean(runs.map((c) => c.points[0]!.entropy));
  const last = mean(runs.map((c) => c.points.at(-1)!.entropy));
  const falling = runs.filter((c) => c.points.at(-1)!.entropy < c.points[0]!.entropy).length;
  const d0 = mean(runs.map((c) => c.points[0]!.maxEditDistance));
  const d1 = mean(runs.map((c) => c.points.at(-1)!.maxEditDistance));
  return {
    id: "entropy",
    title: "Entropy falls during PPO",
    paper,
    measured: `Mean token entropy ${first.toFixed(3)} → ${last.toFixed(3)} nats (falling in ${falling} of ${runs.length} runs); max pairwise edit distance among samples ${d0.toFixed(3)} → ${d1.toFixed(3)}.`,
    reproduced: falling * 2 > runs.length,
  };
}

function verdictOf(c: "above" | "below" | "tie"): boolean | null {
  return c === "above" ? true : c === "below" ? false : null;
}

function selTie(a: number, b: number, n: number): string {
  return compare(a, b, n) === "tie" ? ` — ${TIE_NOTE}` : "";
}

export function deriveFindings(r: ExperimentResults): Finding[] {
  return [
    ladderFinding(r),
    sensitivityFinding(r),
    selectionFinding(r),
    comparisonFinding(r),
    curriculumFinding(r),
    entropyFinding(r),
  ];
}
