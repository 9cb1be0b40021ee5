import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  distinctN,
  diversity,
  editDistance,
  meanTokenEntropy,
  pairwiseEditDistances,
  selfBleu,
  sentenceBleu,
  words,
} from "../../src/metrics/diversity.ts";
import { detectPeak, fitGao, hackingReport, pearson, ranks, spearman } from "../../src/metrics/hacking.ts";
import { diversityJob, hackingJob, sensitivityJob } from "../../src/metrics/run.ts";
import { SensitivityBins } from "../../src/metrics/sensitivity.ts";

const root = await mkdtemp(join(tmpdir(), "ds-metrics-"));
after(() => rm(root, { recursive: true, force: true }));
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test("edit distances, distinct-n and token entropy match hand-computed values", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  const ed = pairwiseEditDistances(["abc", "abd", "xyz"]);
  assert.equal(ed.max, 3);
  close(ed.mean, 7 / 3);
  close(distinctN(["a b a", "b c"], 1), 3 / 5);
  close(distinctN(["a b a", "b c"], 2), 1);
  assert.equal(distinctN(["", " "], 2), 0);
  assert.equal(meanTokenEntropy([[-1, -2], [-3], undefined]), 2);
  assert.equal(meanTokenEntropy([undefined, []]), undefined);
});

test("BLEU and self-BLEU match hand-computed values", () => {
  close(sentenceBleu(words("the cat sat"), [words("the cat sat")]), 1);
  // p1 = 1/2, p2 = (0+1)/(1+1), p3 = p4 = 1 (smoothed, no n-grams); BP = exp(1 − 3/2).
  close(sentenceBleu(words("the cat"), [words("the dog sat")]), Math.sqrt(0.5) * Math.exp(-0.5));
  assert.equal(sentenceBleu(words("x y"), [words("a b")]), 0);
  close(selfBleu(["a b c d", "a b c d"]), 1);
  assert.equal(selfBleu(["only one"]), 0);
  const d = diversity("p", ["a b", "a b", "c d"], [[-0.5], [-1.5]]);
  assert.equal(d.maxEditDistance, 2);
  close(d.distinct1, 4 / 6);
  assert.equal(d.meanTokenEntropy, 1);
});

test("correlations, peak detection and the Gao et al. fit match hand-computed values", () => {
  close(pearson([1, 2, 3], [2, 4, 6]), 1);
  close(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.deepEqual(ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  close(spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1);
  const series = [0.1, 0.3, 0.5, 0.4, 0.2].map((score, i) => ({ step: i * 100, score }));
  const p = detectPeak(series)!;
  assert.equal(p.peakStep, 200);
  close(p.drop, 0.3);
  assert.equal(p.roseThenFell, true);
  assert.equal(detectPeak(series, { minDrop: 0.35 })!.roseThenFell, false);
  assert.equal(detectPeak([0.1, 0.2, 0.3].map((score, step) => ({ step, score })))!.roseThenFell, false);

  // Points exactly on gold = d(1 − 0.5 log d): the fit recovers α, β and the peak at d = e.
  const pts = [0.25, 0.5, 1, 2, 3, 4].map((d) => ({ kl: d * d, gold: d * (1 - 0.5 * Math.log(d)) }));
  const fit = fitGao(pts)!;
  close(fit.alpha, 1, 1e-9);
  close(fit.beta, 0.5, 1e-9);
  close(fit.r2, 1, 1e-9);
  close(fit.peakD!, Math.E, 1e-6);
  assert.equal(fitGao(pts.slice(0, 2)), undefined);
});

test("the hacking report sees proxy and gold part ways in a domain that is hacked", () => {
  const points = [];
  for (let step = 0; step < 20; step++) {
    const proxy = 0.3 + step * 0.03;
    // math: gold follows proxy. chat: gold rises then falls while proxy keeps rising.
    points.push({ step, domain: "math", proxy, gold: proxy - 0.01, heldout: proxy });
    const gold = step < 10 ? 0.3 + step * 0.03 : 0.57 - (step - 9) * 0.03;
    points.push({ step, domain: "chat", proxy, gold, heldout: gold, kl: (step + 1) * 0.5 });
  }
  const [chat, math] = hackingReport(points, { minDrop: 0.05 });
  assert.equal(chat!.domain, "chat");
  close(math!.pearson!, 1);
  close(math!.divergenceLate!, 0.01);
  assert.equal(math!.heldout!.roseThenFell, false);
  assert.ok(chat!.divergenceLate! > 0.2 && Math.abs(chat!.divergenceEarly!) < 1e-9);
  assert.equal(chat!.heldout!.roseThenFell, true);
  assert.equal(chat!.heldout!.peakStep, 9);
  assert.ok(chat!.gao !== null && chat!.gao.beta > 0);
});

test("judge sensitivity bins score gaps by normalised edit distance", () => {
  const bins = new SensitivityBins([0, 0.2, 0.4, 0.7, 1]);
  bins.addGroup([
    { response: "aaaa", score: 1 },
    { response: "aaab", score: 0 },
    { response: "zzzz", score: 0.5 },
  ]);
  assert.deepEqual(bins.result(), [
    { lo: 0, hi: 0.2, pairs: 0, meanGap: null, separated: null },
    { lo: 0.2, hi: 0.4, pairs: 1, meanGap: 1, separated: 1 },
    { lo: 0.4, hi: 0.7, pairs: 0, meanGap: null, separated: null },
    { lo: 0.7, hi: 1, pairs: 2, meanGap: 0.5, separated: 1 },
  ]);
  assert.throws(() => new SensitivityBins([0.5, 0.2]), /increasing/);
});

test("metric jobs read grouped and per-sample JSONL, skip bad lines with a warning", async () => {
  const p = join(root, "samples.jsonl");
  await writeFile(
    p,
    [
      JSON.stringify({ id: "a", response: "aaaa", score: 1, logprobs: [-1] }),
      JSON.stringify({ id: "a", response: "aaab", score: 0, logprobs: [-3] }),
      "not json",
      JSON.stringify({ id: "b", responses: ["x", "y"], scores: [0.5, 0.5] }),
    ].join("\n"),
  );
  const warnings: string[] = [];
  const div = await diversityJob(p, (m) => warnings.push(m));
  assert.equal(div.prompts, 2);
  assert.equal(div.perPrompt[0]!.meanTokenEntropy, 2);
  assert.equal(div.perPrompt[1]!.meanTokenEntropy, null);
  assert.ok(warnings.some((w) => w.includes(`${p}:3: invalid JSON`)));
  const sens = await sensitivityJob(p, () => undefined, [0, 0.5, 1]);
  assert.deepEqual(
    sens.map((b) => [b.pairs, b.meanGap]),
    [
      [1, 1],
      [1, 0],
    ],
  );
  const log = join(root, "run.jsonl");
  await writeFile(log, `${JSON.stringify({ step: 1, domain: "x", proxy: 0.5 })}\n{"step":"bad"}\n`);
  const bad: string[] = [];
  const h = await hackingJob(log, (m) => bad.push(m));
  assert.equal(h[0]!.points, 1);
  assert.match(bad[0]!, /run\.jsonl:2: /);
});

test("datascale metrics prints a table and writes the JSON", async () => {
  const p = join(root, "d.jsonl");
  await writeFile(p, `${JSON.stringify({ id: 1, responses: ["abc", "abd", "xyz"] })}\n`);
  const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [cli, "metrics", "diversity", "--in", p]);
  assert.match(stdout, /max edit/);
  assert.match(stdout, /3\.0\s+2\.3/);
  const json = JSON.parse(await readFile(`${p}.diversity.json`, "utf8")) as {
    mean: { maxEditDistance: number };
  };
  assert.equal(json.mean.maxEditDistance, 3);
});
