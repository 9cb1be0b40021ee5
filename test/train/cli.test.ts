// The stages chained through the CLI as a user runs them: sft writes a model that grpo
// starts from (--init), rm and genrm read preference JSONL with a held-out split, genrm in
// the reference format trains the pointwise judge that `datascale reward` then serves; every
// run directory gets its metrics, checkpoints and model; bad input is named.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Reward } from "../../src/core/schemas.ts";
import { loadDecoder } from "../../src/train/models.ts";
import { arithmetic, kernel, letterJudgements, sftPairs, tokenizer, vowelPairs } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ds-train-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, "train", ...args, "--quiet"], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");
const jsonl = (records: readonly unknown[]) => `${records.map((r) => JSON.stringify(r)).join("\n")}\n`;
const summaryOf = <T>(stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as T;

test("sft → grpo via --init, and rm / genrm on preference pairs, through the CLI", () => {
  const sftData = join(dir, "sft.jsonl");
  writeFileSync(
    sftData,
    `${sftPairs(arithmetic(64, 0))
      .map((p) => JSON.stringify(p))
      .join("\n")}\n{"prompt": 3}\n`,
  );
  const prefs = join(dir, "prefs.jsonl");
  writeFileSync(
    prefs,
    `${vowelPairs(60, 3)
      .map((p) => JSON.stringify(p))
      .join("\n")}\n`,
  );
  const cfg = join(dir, "base.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      runDir: join(dir, "unused"),
      model: { config: { dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 40 } },
      data: { train: sftData, tasks: { family: "arithmetic", n: 32 } },
      train: { steps: 6, batchSize: 8, checkpointEvery: 3 },
      rl: { promptsPerStep: 2, rolloutsPerPrompt: 4, maxResponseTokens: 3 },
    }),
  );
  const sft = cli("sft", "--config", cfg, "--run-dir", join(dir, "sft"));
  assert.equal(sft.code, 0, sft.stderr);
  assert.match(sft.stderr, /sft\.jsonl:65: .*prompt/, "the bad line is reported by file and line");
  assert.equal(lines(join(dir, "sft", "metrics.jsonl")).length, 6);
  // The final model is a Hugging Face model directory.
  const sftModel = join(dir, "sft", "model");
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    assert.ok(existsSync(join(sftModel, f)), f);
  const hf = JSON.parse(readFileSync(join(sftModel, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(hf["model_type"], "llama");
  assert.deepEqual(hf["architectures"], ["LlamaForCausalLM"]);
  const summary = JSON.parse(lines(join(dir, "sft", "metrics.jsonl")).at(-1)!) as {
    step: number;
    loss: number;
  };
  assert.equal(summary.step, 6);

  const grpo = cli(
    "grpo",
    "--config",
    cfg,
    "--run-dir",
    join(dir, "grpo"),
    "--init",
    join(dir, "sft", "model"),
  );
  assert.equal(grpo.code, 0, grpo.stderr);
  const m = JSON.parse(lines(join(dir, "grpo", "metrics.jsonl")).at(-1)!) as Record<string, unknown>;
  for (const k of [
    "reward",
    "kl",
    "entropy",
    "clip_frac",
    "response_length",
    "rollout_s",
    "update_s",
    "tokens_per_s",
  ])
    assert.equal(typeof m[k], "number", k);
  assert.deepEqual(Object.keys(m["reward_by_source"] as object), ["rtv:logic"]);
  assert.deepEqual(Object.keys(m["reward_by_domain"] as object), ["math"]);
  assert.ok(existsSync(join(dir, "grpo", "reference", "model.safetensors")));
  assert.ok(existsSync(join(dir, "grpo", "model", "model.safetensors")));

  const prefCfg = join(dir, "prefs.yaml");
  writeFileSync(
    prefCfg,
    `runDir: ${join(dir, "rm")}\nmodel: { config: { dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 48 } }\ndata: { train: ${prefs} }\ntrain: { steps: 4, batchSize: 8 }\n`,
  );
  const rm = cli("rm", "--config", prefCfg);
  assert.equal(rm.code, 0, rm.stderr);
  const rmOut = JSON.parse(rm.stdout.trim().split("\n").at(-1)!) as { evalAccuracy: number };
  assert.ok(rmOut.evalAccuracy >= 0 && rmOut.evalAccuracy <= 1);
  // A Bradley–Terry model is a one-label sequence classifier (transformers' convention).
  const rmHf = JSON.parse(readFileSync(join(dir, "rm", "model", "config.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.deepEqual(rmHf["architectures"], ["LlamaForSequenceClassification"]);
  assert.equal(rmHf["num_labels"], 1);
  assert.ok(!existsSync(join(dir, "rm", "model", "heads.safetensors")), "the BT bias stays 0: no extra file");
  const genrm = cli("genrm", "--config", prefCfg, "--run-dir", join(dir, "genrm"));
  assert.equal(genrm.code, 0, genrm.stderr);
  const gOut = JSON.parse(genrm.stdout.trim().split("\n").at(-1)!) as {
    eval: { pairwiseAccuracy: number; brier: number };
  };
  assert.equal(typeof gOut.eval.brier, "number");
});

test("usage errors: unknown stage, missing --config, ppo without tasks", () => {
  assert.equal(cli("dpo").code, 2);
  const noCfg = cli("sft");
  assert.equal(noCfg.code, 1);
  assert.match(noCfg.stderr, /--config FILE is required/);
  const cfg = join(dir, "nothing.yaml");
  writeFileSync(cfg, `runDir: ${join(dir, "x")}\n`);
  const r = cli("ppo", "--config", cfg);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /data\.tasks/);
});

interface ReferenceSummary {
  format: string;
  rewardConfig: string;
  trainItems: number;
  eval: { balancedAccuracy: number; yesAccuracy: number; noAccuracy: number; errors: number };
}

/**
 * p(YES) as the served GenRM defines it (the first tokens spelling yes or no, judge/genrm.ts),
 * read off `model`'s next-token distribution after BOS and the question written out by hand:
 * what the judge must compute if it asks the question the trainer trained on.
 */
async function pYesByHand(
  model: ReturnType<typeof loadDecoder>,
  items: readonly { prompt: string; response: string; reference: string }[],
): Promise<number[]> {
  const seqs = items.map((x) =>
    Int32Array.from([
      tokenizer.bosId!,
      ...new TextEncoder().encode(`${x.prompt}\nA:${x.response}\nref:${x.reference}\nA=ref?`),
    ]),
  );
  const logits = await model.logits(seqs);
  return logits.map((l, j) => {
    const row = l.subarray((seqs[j]!.length - 1) * model.vocabSize, seqs[j]!.length * model.vocabSize);
    const max = Math.max(...row);
    const p = (c: string) => Math.exp(row[c.charCodeAt(0)]! - max);
    return (p("Y") + p("y")) / (p("Y") + p("y") + p("N") + p("n"));
  });
}

test("genrm format reference: trained through the CLI, served by `datascale reward` from the YAML it writes, scores p(YES) of the question it was trained on", async () => {
  const trainFile = join(dir, "judgements.jsonl");
  const evalFile = join(dir, "judgements-eval.jsonl");
  const held = letterJudgements(40, 1234);
  writeFileSync(trainFile, jsonl(letterJudgements(400, 7)));
  writeFileSync(evalFile, jsonl(held));
  const runDir = join(dir, "reference");
  const cfg = join(dir, "reference.yaml");
  writeFileSync(
    cfg,
    `runDir: ${runDir}\nmodel: { config: { dim: 32, nLayers: 2, nHeads: 2, maxSeqLen: 32 }, kernel: wasm }\n` +
      `data: { train: ${trainFile}, eval: ${evalFile} }\n` +
      "train: { steps: 400, batchSize: 16, lr: 0.003, warmup: 5, checkpointEvery: 200 }\n" +
      "genrm: { format: reference }\n",
  );
  const r = cli("genrm", "--config", cfg);
  assert.equal(r.code, 0, r.stderr);
  const out = summaryOf<ReferenceSummary>(r.stdout);
  assert.equal(out.format, "reference");
  assert.equal(out.trainItems, 400);
  assert.equal(out.rewardConfig, join(runDir, "reward-genrm.yaml"));
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    assert.ok(existsSync(join(runDir, "model", f)), f);
  process.stdout.write(`# reference GenRM held-out: ${JSON.stringify(out.eval)}\n`);
  assert.ok(out.eval.balancedAccuracy >= 0.7, `balanced accuracy ${out.eval.balancedAccuracy}`);
  assert.equal(out.eval.errors, 0);
  const lastMetrics = JSON.parse(lines(join(runDir, "metrics.jsonl")).at(-1)!) as {
    step: number;
    eval: unknown;
  };
  assert.equal(lastMetrics.step, 400);
  assert.deepEqual(lastMetrics.eval, out.eval, "the summary's figures are the last metrics line's");

  // Every held-out item against the ground truth, and the first ones against a Best-of-N
  // reference (`reference.response`: the paper's routing sends them to the same judge).
  const rollouts = [
    ...held.map((x, i) => ({
      id: `gt-${i}`,
      domain: "general",
      prompt: x.prompt,
      response: x.response,
      reference: { answer: x.reference },
    })),
    ...held.slice(0, 6).map((x, i) => ({
      id: `bon-${i}`,
      domain: "general",
      prompt: x.prompt,
      response: x.response,
      reference: { response: x.reference },
    })),
  ];
  const inFile = join(dir, "reference-rollouts.jsonl");
  const outFile = join(dir, "reference-rewards.jsonl");
  writeFileSync(inFile, jsonl(rollouts));
  const served = spawnSync(
    process.execPath,
    [MAIN, "reward", "--config", out.rewardConfig, "--in", inFile, "--out", outFile],
    { encoding: "utf8" },
  );
  assert.equal(served.status, 0, served.stderr);
  const rewards = lines(outFile).map((l) => JSON.parse(l) as Reward);
  assert.deepEqual(
    rewards.map((x) => x.source),
    rollouts.map((x) => (x.id.startsWith("gt") ? "genrm:gt" : "genrm:bon")),
  );
  const gt = rewards.slice(0, held.length).map((x) => x.score);

  // The served scores are p(YES) of the question written out by hand, from the saved model.
  const model = loadDecoder(join(runDir, "model"), {}, 1, kernel);
  const mine = await pYesByHand(model, held);
  const worst = Math.max(...gt.map((s, i) => Math.abs(s - mine[i]!)));
  process.stdout.write(`# served reference GenRM vs p(YES) by hand: max |Δ| ${worst.toExponential(2)}\n`);
  assert.ok(worst <= 1e-5, `served scores differ from p(YES) of the trained question by ${worst}`);
  assert.ok(new Set(gt.map((s) => s.toFixed(3))).size > 4, "the scores are not all alike");
  // The same question in another batch: equal up to float32 rounding of a different GEMM blocking.
  for (let i = 0; i < 6; i++)
    assert.ok(Math.abs(rewards[held.length + i]!.score - gt[i]!) <= 1e-5, "bon asks the same question");

  // And the served judge's balanced accuracy is the one the trainer reported.
  const classAcc = (label: boolean) => {
    const idx = held.flatMap((x, i) => (x.label === label ? [i] : []));
    return idx.filter((i) => gt[i]! >= 0.5 === label).length / idx.length;
  };
  assert.equal((classAcc(true) + classAcc(false)) / 2, out.eval.balancedAccuracy);
});

test("genrm format reference: bad records and questions the model cannot hold are named by file:line and skipped; the other format's options are refused", () => {
  const good = letterJudgements(20, 3);
  const trainFile = join(dir, "judgements-bad.jsonl");
  const evalFile = join(dir, "judgements-bad-eval.jsonl");
  writeFileSync(
    trainFile,
    jsonl([
      good[0],
      { prompt: "say:", response: "a", reference: "a", label: "yes" },
      good[1],
      { prompt: "say:", response: "a".repeat(40), reference: "a", label: false },
      ...good.slice(2, 16),
    ]),
  );
  writeFileSync(
    evalFile,
    jsonl([good[16], { prompt: "say:", response: "b", label: true }, ...good.slice(17)]),
  );
  const base =
    `runDir: ${join(dir, "reference-bad")}\nmodel: { config: { dim: 16, nLayers: 1, nHeads: 2, maxSeqLen: 32 } }\n` +
    `data: { train: ${trainFile}, eval: ${evalFile} }\ntrain: { steps: 2, batchSize: 4 }\n`;
  const cfg = join(dir, "reference-bad.yaml");
  writeFileSync(cfg, `${base}genrm: { format: reference }\n`);
  const r = cli("genrm", "--config", cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /judgements-bad\.jsonl:2: .*label/);
  assert.match(
    r.stderr,
    /judgements-bad\.jsonl:4: skipped: the judge's question is 61 tokens, the model holds 32/,
  );
  assert.match(r.stderr, /judgements-bad-eval\.jsonl:2: .*reference/);
  const out = summaryOf<ReferenceSummary>(r.stdout);
  assert.equal(out.trainItems, 16, "the two bad training lines are out, the rest in");
  assert.equal(out.eval.errors, 0);

  writeFileSync(cfg, `${base}genrm: { format: reference, maxResponseChars: 32 }\n`);
  const cut = cli("genrm", "--config", cfg);
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /genrm\.maxResponseChars: pairwise only/);
  const template = join(dir, "no-reference.md");
  writeFileSync(template, "{{prompt}}\nA:{{first}}\nok?");
  writeFileSync(cfg, `${base}genrm: { format: reference, template: ${template} }\n`);
  const blind = cli("genrm", "--config", cfg);
  assert.equal(blind.code, 1);
  assert.match(blind.stderr, /genrm\.template: .*no-reference\.md has no \{\{second\}\} \(the reference\)/);
  writeFileSync(cfg, `${base}genrm: { template: ${template} }\n`);
  assert.match(cli("genrm", "--config", cfg).stderr, /genrm\.template: reference format only/);
});

test("genrm without a format is the pairwise judge it was: same model as `format: pairwise`, same figures, no reward config", () => {
  const prefs = join(dir, "prefs-default.jsonl");
  writeFileSync(prefs, jsonl(vowelPairs(40, 5)));
  const base = `model: { config: { dim: 16, nLayers: 1, nHeads: 2, maxSeqLen: 48 } }\ndata: { train: ${prefs} }\ntrain: { steps: 4, batchSize: 8 }\n`;
  const cfg = join(dir, "pairwise.yaml");
  writeFileSync(cfg, base);
  const implicit = cli("genrm", "--config", cfg, "--run-dir", join(dir, "pairwise-default"));
  writeFileSync(cfg, `${base}genrm: { format: pairwise, maxResponseChars: 64 }\n`);
  const explicit = cli("genrm", "--config", cfg, "--run-dir", join(dir, "pairwise-explicit"));
  assert.equal(implicit.code, 0, implicit.stderr);
  assert.equal(explicit.code, 0, explicit.stderr);
  const weights = (run: string) => readFileSync(join(dir, run, "model", "model.safetensors"));
  assert.ok(weights("pairwise-default").equals(weights("pairwise-explicit")));
  const a = summaryOf<{ eval: Record<string, number>; format?: string }>(implicit.stdout);
  assert.deepEqual(Object.keys(a.eval).sort(), ["brier", "pairwiseAccuracy", "positionBias"]);
  assert.deepEqual(a.eval, summaryOf<{ eval: unknown }>(explicit.stdout).eval);
  assert.equal(a.format, undefined);
  assert.ok(!existsSync(join(dir, "pairwise-default", "reward-genrm.yaml")));
  // Pairs given to the reference format are refused line by line, not trained on.
  writeFileSync(cfg, `${base}genrm: { format: reference }\n`);
  const wrong = cli("genrm", "--config", cfg, "--run-dir", join(dir, "pairwise-as-reference"));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /prefs-default\.jsonl:1: .*response/);
  assert.match(wrong.stderr, /prefs-default\.jsonl: no valid records/);
});
