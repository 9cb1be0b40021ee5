// Findings are decided by the measurements, with noise taken into account: a gap under two
// standard errors is "inconclusive" (null), never a win.
import assert from "node:assert/strict";
import { it } from "node:test";
import { compare, deriveFindings } from "../../src/experiment/findings.ts";
import type { ExperimentResults, RunCurve } from "../../src/experiment/results.ts";
import { synthetic } from "./fixtures.ts";

/** A run that ends at `final` gold (from 0.4) — only the end matters to the ladder finding. */
function ending(c: RunCurve, final: number): RunCurve {
  const points = c.points.map((p, i) =>
    i === c.points.length - 1 ? { ...p, gold: { ...p.gold, overall: final } } : p,
  );
  return { ...c, points, final: { step: c.final.step, gold: final } };
}

function withLadder(r: ExperimentResults, finals: [number, number, number, number]): ExperimentResults {
  return { ...r, ladder: r.ladder.map((c, i) => ending(c, finals[i]!)) };
}

const find = (r: ExperimentResults, id: string) => deriveFindings(r).find((f) => f.id === id)!;

it("compare needs two standard errors of the difference", () => {
  // n = 400 at p ≈ 0.5: SE of the difference ≈ 0.035, so 0.07 is the bar.
  assert.equal(compare(0.58, 0.5, 400), "above");
  assert.equal(compare(0.55, 0.5, 400), "tie");
  assert.equal(compare(0.42, 0.5, 400), "below");
  assert.equal(compare(0.55, 0.5, 4000), "above");
});

it("the ladder holds only when RTV leads clearly and GenRM-GT clearly beats the weak judges", () => {
  const base = synthetic(); // sizes.original = 200 → 400 samples per gold figure
  assert.equal(find(withLadder(base, [0.7, 0.55, 0.4, 0.38]), "reward-ladder").reproduced, true);
  const tie = find(withLadder(base, [0.7, 0.42, 0.4, 0.38]), "reward-ladder");
  assert.equal(tie.reproduced, null);
  assert.match(tie.measured, /within noise/);
  assert.equal(find(withLadder(base, [0.45, 0.44, 0.4, 0.38]), "reward-ladder").reproduced, false);
  assert.equal(find(withLadder(base, [0.7, 0.3, 0.45, 0.38]), "reward-ladder").reproduced, false);
});

it("DataScale vs baseline: a win, a loss and a tie on the best checkpoint", () => {
  const r = synthetic();
  const set = (ds: number, b: number): ExperimentResults => ({
    ...r,
    comparison: r.comparison.map((c) =>
      c.name === "datascale"
        ? { ...c, best: { ...c.best, gold: ds } }
        : c.name === "baseline"
          ? { ...c, best: { ...c.best, gold: b } }
          : c,
    ),
  });
  assert.equal(find(set(0.6, 0.45), "datascale").reproduced, true);
  assert.equal(find(set(0.45, 0.6), "datascale").reproduced, false);
  assert.equal(find(set(0.47, 0.45), "datascale").reproduced, null);
});

it("selection counts as hard-prompt picking only when the kept prompts are clearly harder", () => {
  const r = synthetic(); // logic/general: kept 20 of 200 each, gold 0.1 kept vs 0.25 pool
  const f = find(r, "selection");
  assert.equal(f.reproduced, true);
  assert.match(f.measured, /kept 40 of 400/);
  const easy: ExperimentResults = {
    ...r,
    selection: {
      ...r.selection,
      domains: r.selection.domains.map((d) => (d.filtered ? { ...d, goldKept: d.goldPool } : d)),
    },
  };
  assert.equal(find(easy, "selection").reproduced, null);
});
