// Models written by the trainers in the Hugging Face layout, read back the way transformers
// reads them — config.json's HF keys, model.safetensors parsed in Python — and run by an
// independent PyTorch implementation (torch_llama.py, float64): its logits (and, for the
// Bradley–Terry model, the sequence classifier's score at the last token) equal ours within
// float32 rounding. Needs only Debian's python3-torch; skipped with the reason otherwise.
// (transformers itself loads the same directories: see docs/model-io.md.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadDecoderDir } from "../../src/model/decoder-step-model.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import { byteTokenizer, newDecoder } from "../../src/train/models.ts";
import { rewardScores, trainRewardModel } from "../../src/train/rm.ts";
import { RunDir } from "../../src/train/rundir.ts";
import { trainSft } from "../../src/train/sft.ts";
import { PYTHON, torchSkip } from "../fixtures/python.ts";
import { arithmetic, kernel, sftPairs, vowelPairs } from "../train/helpers.ts";

const skip = torchSkip();
if (skip) process.stdout.write(`# HF-layout torch comparison skipped: ${skip}\n`);

const dir = mkdtempSync(join(tmpdir(), "hf-torch-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const tokenizer = byteTokenizer();
/** Training on single-threaded WASM (fast, no workers); our side of the comparison on the f32 reference kernel. */
const cpu = createTsKernel("f32");
const SHAPE = { vocabSize: tokenizer.vocabSize, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, maxSeqLen: 48 };
const opts = { batchSize: 16, warmup: 2, seed: 1, evalEvery: 0, checkpointEvery: 0 };
/**
 * Ours computes in float32 (dot products of 32–96 terms), torch_llama.py in float64 from the
 * same float32 weights: float32 rounding (≈6e-8 relative per operation, compounded over two
 * layers; measured ≈5e-8 on logits of magnitude ≈1) stays far below this, while a wrong
 * tensor, a transposed weight or a misread config key is off by O(0.1–1).
 */
const TOLERANCE = 1e-5;

function torchRun(models: { dir: string; sequences: number[][] }[]): TorchModel[] {
  const path = join(dir, "job.json");
  writeFileSync(path, JSON.stringify({ hf: models }));
  const script = fileURLToPath(new URL("./torch_llama.py", import.meta.url));
  const r = spawnSync(PYTHON, [script, path], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `torch script failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const sequences = ["7+5=", "3+4=1", "say:aeiou", "héllo 🙂"].map((t) => [256, ...tokenizer.encode(t)]);

interface TorchModel {
  architectures: string[];
  results: { logits: number[]; score?: number }[];
}

test("models the trainers saved, read from their files by torch, give our logits and rewards", {
  skip,
}, async () => {
  // An SFT model and a Bradley–Terry model, each trained a few steps with a run directory:
  // the trainer writes <runDir>/model in the HF layout.
  const sftRun = new RunDir(join(dir, "sft"));
  const sft = newDecoder(SHAPE, 1, kernel);
  await trainSft({
    model: sft,
    tokenizer,
    train: sftPairs(arithmetic(64, 0)),
    options: { ...opts, steps: 8, lr: 3e-3 },
    runDir: sftRun,
  });
  const btRun = new RunDir(join(dir, "bt"));
  const bt = newDecoder({ ...SHAPE, rewardHead: true }, 2, kernel);
  const pairs = vowelPairs(64, 5);
  await trainRewardModel({
    model: bt,
    tokenizer,
    train: pairs,
    options: { ...opts, steps: 8, lr: 3e-3 },
    runDir: btRun,
  });
  const items = pairs.slice(0, 6).flatMap((p) => [
    { prompt: p.prompt, response: p.chosen },
    { prompt: p.prompt, response: p.rejected },
  ]);
  const rewards = rewardScores(bt, tokenizer, items);
  // What transformers' classifier reads for these: the chat template's <bos> prompt response <eos>.
  const btSeqs = items.map((x) => [256, ...tokenizer.encode(x.prompt + x.response), 257]);

  const [refSft, refBt] = torchRun([
    { dir: sftRun.modelDir, sequences },
    { dir: btRun.modelDir, sequences: btSeqs },
  ]);
  assert.deepEqual(refSft!.architectures, ["LlamaForCausalLM"]);
  assert.deepEqual(refBt!.architectures, ["LlamaForSequenceClassification"]);
  const loaded = loadDecoderDir(sftRun.modelDir, cpu);
  assert.deepEqual(loaded.params, sft.params, "the saved model is the trained one");
  const ours = await loaded.logits(sequences.map((s) => Int32Array.from(s)));
  let worst = 0;
  for (const [i, r] of refSft!.results.entries())
    for (let j = 0; j < r.logits.length; j++) worst = Math.max(worst, Math.abs(r.logits[j]! - ours[i]![j]!));
  const worstReward = Math.max(...refBt!.results.map((r, i) => Math.abs(r.score! - rewards[i]!)));
  process.stdout.write(
    `# vs torch reading the files: max |Δ logit| ${worst.toExponential(2)} (SFT), max |Δ reward| ${worstReward.toExponential(2)} (BT)\n`,
  );
  assert.ok(worst < TOLERANCE, `logits differ from torch by ${worst}`);
  assert.ok(worstReward < TOLERANCE, `rewards differ from torch by ${worstReward}`);
  assert.ok(new Set(rewards.map((x) => x.toFixed(3))).size > 2, "the rewards are not all alike");
});
