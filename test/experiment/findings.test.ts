// The decision rule (docs/experiment.md): per-seed effects pooled into a 95 % interval that
// is the wider of the across-seed t-interval and the within-seed floor; reproduced above 0,
// not reproduced below δ, inconclusive otherwise and with fewer than 3 seeds. And Gao's fit.
import assert from "node:assert/strict";
import { it } from "node:test";
import { deriveFindings, gaoFits, preconditions } from "../../src/experiment/findings.ts";
import {
  binomialSe,
  combineVerdicts,
  fitGao,
  gaoCurve,
  pooledEstimate,
  tQuantile975,
  verdictOf,
} from "../../src/experiment/stats.ts";
import { seedResults } from "./fixtures.ts";

const per = (values: number[], se = 0.001) => values.map((value, i) => ({ seed: i + 1, value, se }));
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

it("the interval is the t-interval across seeds when seeds disagree more than sampling error", () => {
  const e = pooledEstimate(per([0.1, 0.2, 0.3]));
  close(e.mean, 0.2);
  // sd = 0.1, t(2) = 4.303: half-width 4.303 · 0.1 / √3.
  close(e.hi - e.mean, (4.303 * 0.1) / Math.sqrt(3));
  assert.equal(e.method, "t");
  assert.equal(tQuantile975(2), 4.303);
  assert.ok(Math.abs(tQuantile975(200) - 1.972) < 0.002);
});

it("the within-seed floor wins when the seeds agree by luck, and is all there is with one seed", () => {
  const e = pooledEstimate(per([0.2, 0.2, 0.2], 0.05));
  close(e.hi - e.mean, (1.959964 * Math.sqrt(3 * 0.05 ** 2)) / 3);
  assert.equal(e.method, "floor");
  const one = pooledEstimate(per([0.2], 0.05));
  close(one.hi - one.mean, 1.959964 * 0.05);
  close(binomialSe(0.5, 100), 0.05);
});

it("verdicts: above 0 reproduced, below δ not reproduced (reversed or small), else inconclusive; < 3 seeds decide nothing", () => {
  const v = (values: number[]) => verdictOf(pooledEstimate(per(values)), 0.05);
  assert.equal(v([0.1, 0.11, 0.12]).verdict, "reproduced");
  assert.deepEqual(v([-0.1, -0.11, -0.12]), {
    verdict: "not reproduced",
    why: "interval below 0 (reversed)",
  });
  assert.match(v([-0.005, 0, 0.005]).why, /smaller than δ/);
  assert.equal(v([-0.005, 0, 0.005]).verdict, "not reproduced");
  assert.equal(v([-0.2, 0.05, 0.3]).verdict, "inconclusive");
  assert.equal(v([0.1, 0.11]).verdict, "inconclusive");
  assert.equal(combineVerdicts(["reproduced", "reproduced"]), "reproduced");
  assert.equal(combineVerdicts(["reproduced", "inconclusive"]), "inconclusive");
  assert.equal(combineVerdicts(["reproduced", "not reproduced", "inconclusive"]), "not reproduced");
});

it("the ladder holds when RTV > GenRM-GT > both weak judges on every seed, beyond noise", () => {
  const seeds = [1, 2, 3].map((s) => seedResults(s));
  const ladder = deriveFindings(seeds).find((f) => f.id === "reward-ladder")!;
  assert.deepEqual(
    ladder.comparisons.map((c) => c.verdict),
    ["reproduced", "reproduced", "reproduced"],
  );
  assert.equal(ladder.verdict, "reproduced");
  assert.equal(ladder.reproduced, true);
  // The effect is paired by seed: at the end RTV has gained 0.4 and GenRM-GT 0.1875 − 0.025
  // (peak at step 150, then drifting), the same on every seed.
  for (const p of ladder.comparisons[0]!.effect.perSeed) close(p.value, 0.2375, 1e-9);
  assert.match(ladder.measured, /final held-out gold, RTV − GenRM-GT: \+23\.[78] pt \[/);
  // BT ends above GenRM-GT: that rung, and so the finding, is not reproduced.
  const flat = [1, 2, 3].map((s) => seedResults(s, { lifts: [0.4, 0.04, 0.04, 0.2] }));
  const f = deriveFindings(flat).find((x) => x.id === "reward-ladder")!;
  assert.equal(f.comparisons[2]!.verdict, "not reproduced");
  assert.match(f.comparisons[2]!.why, /reversed/);
  // The same gap as sampling noise allows (3.5 points at n = 400 per figure) decides nothing.
  const close3 = [1, 2, 3].map((s) => seedResults(s, { lifts: [0.4, 0.04, 0.04, 0.04] }));
  assert.equal(
    deriveFindings(close3).find((x) => x.id === "reward-ladder")!.comparisons[2]!.verdict,
    "inconclusive",
  );
  assert.equal(f.verdict, "not reproduced");
  // With two seeds nothing is decided.
  const two = deriveFindings(seeds.slice(0, 2)).find((x) => x.id === "reward-ladder")!;
  assert.equal(two.verdict, "inconclusive");
  assert.match(two.measured, /With 2 seed\(s\) nothing is decided/);
});

it("every finding has its comparisons; the fixture's judges meet the preconditions except where set", () => {
  const seeds = [1, 2, 3].map((s) => seedResults(s));
  const findings = deriveFindings(seeds);
  assert.deepEqual(
    findings.map((f) => f.id),
    ["reward-ladder", "fine-grained", "selection", "datascale", "math-code-first", "entropy"],
  );
  for (const f of findings) assert.ok(f.comparisons.length > 0, f.id);
  assert.equal(findings.find((f) => f.id === "fine-grained")!.verdict, "reproduced");
  assert.equal(findings.find((f) => f.id === "selection")!.verdict, "reproduced");
  assert.equal(findings.find((f) => f.id === "entropy")!.verdict, "reproduced");
  const pre = preconditions(seeds);
  assert.deepEqual(
    pre.map((p) => [p.id, p.met]),
    [
      ["genrm-gt-accuracy", true],
      ["bt-accuracy", true],
      ["bon-lift", true],
      ["rl-generalises", true],
    ],
  );
  const weak = seeds.map((r) => ({
    ...r,
    models: { ...r.models, genrm: { ...r.models.genrm, gtAccuracy: 0.6 } },
  }));
  assert.deepEqual(deriveFindings(weak).find((f) => f.id === "fine-grained")!.unmet, ["genrm-gt-accuracy"]);
});

it("Gao's fit recovers α and β from exact points, and finds the peak", () => {
  const [alpha, beta] = [0.8, 0.5];
  const pts = [0.1, 0.3, 0.6, 1, 1.5, 2.5].map((d) => ({ d, lift: gaoCurve(alpha, beta, d) }));
  const fit = fitGao([{ d: 0, lift: 0 }, ...pts]);
  close(fit.alpha, alpha, 1e-9);
  close(fit.beta, beta, 1e-9);
  close(fit.r2 ?? 0, 1, 1e-12);
  assert.equal(fit.points, pts.length);
  close(fit.peak ?? 0, Math.exp(alpha / beta - 1), 1e-9);
  assert.equal(fitGao([{ d: 1, lift: 0.1 }]).r2, null);
  const fits = gaoFits([1, 2, 3].map((s) => seedResults(s)));
  assert.deepEqual(
    fits.map((f) => f.source),
    ["rtv", "genrm-gt", "genrm-bon", "bt"],
  );
  assert.equal(fits[0]!.points, 3 * 4);
});
