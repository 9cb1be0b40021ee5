// The stages chained through the CLI as a user runs them: sft writes a model that grpo
// starts from (--init), rm and genrm read preference JSONL with a held-out split; every
// run directory gets its metrics, checkpoints and model; bad input is named.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { arithmetic, sftPairs, vowelPairs } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ds-train-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, "train", ...args, "--quiet"], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");

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
