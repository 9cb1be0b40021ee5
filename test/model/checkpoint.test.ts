import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  type CheckpointConfig,
  copyIntoViews,
  engineConfigInput,
  expectedShapes,
  fromHfNames,
  HEADS_FILE,
  interleaveRopeRows,
  loadCheckpoint,
  saveCheckpoint,
  tensorsFromViews,
  withHfNames,
} from "../../src/model/checkpoint.ts";
import type { Tensor } from "../../src/model/safetensors.ts";
import { readSafetensors, writeSafetensors } from "../../src/model/safetensors.ts";
import { loadTokenizerDir } from "../../src/model/tokenizer/load.ts";
import { writeTinyModel } from "../fixtures/tiny-model.ts";
import { ZeroLayerLlama } from "../fixtures/zero-layer-llama.ts";

function config(architecture: CheckpointConfig["architecture"], tie: boolean): CheckpointConfig {
  return {
    architecture,
    vocabSize: 11,
    dim: 8,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    headDim: 2,
    ffnDim: 12,
    maxSeqLen: 64,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: tie,
    qkvBias: architecture === "qwen2",
    ropeScaling: null,
    bosTokenId: 1,
    eosTokenIds: [2],
  };
}

function randomTensors(c: CheckpointConfig): Map<string, Tensor> {
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const out = new Map<string, Tensor>();
  for (const [name, shape] of expectedShapes(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rand();
    out.set(name, { shape, data });
  }
  return out;
}

for (const [arch, tie] of [
  ["llama", false],
  ["qwen2", true],
] as const) {
  test(`${arch} (tied: ${tie}) checkpoint: save → load is bit-exact with HF names and config keys`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "ckpt-"));
    try {
      const c = config(arch, tie);
      const tensors = randomTensors(c);
      await saveCheckpoint(dir, { config: c, tensors });
      const hf = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
      assert.equal(hf.model_type, arch);
      assert.equal(hf.num_key_value_heads, 2);
      assert.equal(hf.tie_word_embeddings, tie);
      const raw = await readSafetensors(join(dir, "model.safetensors"));
      assert.ok(raw.tensors.has("model.layers.1.mlp.down_proj.weight"));
      assert.equal(raw.tensors.has("model.layers.0.self_attn.q_proj.bias"), arch === "qwen2");
      assert.equal(raw.tensors.has("lm_head.weight"), !tie);
      const loaded = await loadCheckpoint(dir);
      assert.deepEqual(loaded.config, c);
      assert.deepEqual([...loaded.tensors.keys()].sort(), [...tensors.keys()].sort());
      for (const [name, t] of tensors) {
        assert.deepEqual(
          new Uint8Array(loaded.tensors.get(name)!.data.buffer),
          new Uint8Array(t.data.buffer),
          name,
        );
      }
    } finally {
      await rm(dir, { recursive: true });
    }
  });
}

test("HF checkpoints with extra buffers, bf16 weights and shards load; bad shapes are named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ckpt-hf-"));
  try {
    const c = config("llama", false);
    await saveCheckpoint(dir, { config: c, tensors: randomTensors(c) }, { dtype: "BF16" });
    const raw = await readSafetensors(join(dir, "model.safetensors"));
    // Split into two shards with an index, plus a rotary buffer older exports carry.
    const names = [...raw.tensors.keys()];
    const shardA = new Map(names.slice(0, 5).map((n) => [n, raw.tensors.get(n)!]));
    const shardB = new Map(names.slice(5).map((n) => [n, raw.tensors.get(n)!]));
    shardB.set("model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [1], data: new Float32Array([1]) });
    await rm(join(dir, "model.safetensors"));
    await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), shardA, { dtype: "BF16" });
    await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), shardB, { dtype: "BF16" });
    const weightMap: Record<string, string> = {};
    for (const n of shardA.keys()) weightMap[n] = "model-00001-of-00002.safetensors";
    for (const n of shardB.keys()) weightMap[n] = "model-00002-of-00002.safetensors";
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: weightMap }));
    const loaded = await loadCheckpoint(dir);
    assert.deepEqual(loaded.ignored, ["model.layers.0.self_attn.rotary_emb.inv_freq"]);
    assert.equal(loaded.tensors.get("layers.0.wq")!.data.length, 8 * 8);

    const hf = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...hf, intermediate_size: 13 }));
    await assert.rejects(
      loadCheckpoint(dir),
      /tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[12,8\], config\.json implies \[13,8\]/,
    );
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...hf, model_type: "gpt2" }));
    await assert.rejects(loadCheckpoint(dir), /config\.json: model_type: unsupported model_type "gpt2"/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("interleaveRopeRows is a permutation its inverse undoes", () => {
  const w = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => i);
  const il = interleaveRopeRows(w, 2, 4, 3);
  // Head 0 rows (HF order r0 r1 | r2 r3) become r0 r2 r1 r3.
  assert.deepEqual([...il.subarray(0, 12)], [0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
  assert.deepEqual(interleaveRopeRows(il, 2, 4, 3, true), w);
});

test("a tiny HF-layout model written by the tests loads: tokenizer, chat template, weights that predict", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tiny-"));
  try {
    await writeTinyModel(dir);
    const checkpoint = await loadCheckpoint(dir);
    const { tokenizer, chatTemplate } = await loadTokenizerDir(dir);
    assert.equal(checkpoint.config.vocabSize, tokenizer.vocabSize);
    assert.deepEqual(checkpoint.config.eosTokenIds, [tokenizer.eosId]);
    const model = new ZeroLayerLlama(checkpoint);
    const prompt = chatTemplate!.render([{ role: "user", content: "What sound does the owl make?" }]);
    const ids = tokenizer.encode(prompt);
    const logits = await model.step([model.newCache()], [Int32Array.from(ids)]);
    // After "assistant\n" the training text always continues with "The".
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    assert.equal(tokenizer.decode([best]).trim(), "The");
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("parameter views in one contiguous buffer load from and save to a checkpoint", async () => {
  const c = config("qwen2", true);
  const shapes = expectedShapes(c);
  const total = [...shapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const buffer = new Float32Array(total);
  const views = new Map<string, Float32Array>();
  let at = 0;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((x, y) => x * y, 1);
    views.set(name, buffer.subarray(at, at + n));
    at += n;
  }
  const tensors = randomTensors(c);
  copyIntoViews(tensors, views);
  assert.deepEqual(views.get("layers.1.bk"), tensors.get("layers.1.bk")!.data);
  const dir = await mkdtemp(join(tmpdir(), "ckpt-views-"));
  try {
    await saveCheckpoint(dir, { config: c, tensors: tensorsFromViews(c, views) });
    const loaded = await loadCheckpoint(dir);
    const again = new Float32Array(total);
    at = 0;
    const views2 = new Map<string, Float32Array>();
    for (const [name, view] of views) {
      views2.set(name, again.subarray(at, at + view.length));
      at += view.length;
    }
    copyIntoViews(loaded.tensors, views2);
    assert.deepEqual(again, buffer);
  } finally {
    await rm(dir, { recursive: true });
  }
  views.set("value_head.weight", new Float32Array(8));
  assert.throws(() => copyIntoViews(tensors, views), /no tensor for parameter 'value_head\.weight'/);
  copyIntoViews(tensors, views, { optional: ["value_head.weight"] });
  views.set("layers.0.wq", new Float32Array(3));
  assert.throws(
    () => copyIntoViews(tensors, views),
    /tensor 'layers\.0\.wq' \[8,8\] has 64 values; the parameter view holds 3/,
  );
});

test("engine wiring: HF-named tensors, reward/value heads, and the decoder config input", async () => {
  const c = config("llama", true);
  const tensors = randomTensors(c);
  tensors.set("value_head.weight", { shape: [1, 8], data: new Float32Array(8).fill(0.5) });
  tensors.set("value_head.bias", { shape: [1], data: new Float32Array([0.25]) });
  tensors.set("reward_head.weight", { shape: [1, 8], data: new Float32Array(8).fill(-1) });
  tensors.set("reward_head.bias", { shape: [1], data: new Float32Array([2]) });
  const dir = await mkdtemp(join(tmpdir(), "ckpt-engine-"));
  try {
    await saveCheckpoint(dir, { config: c, tensors });
    const loaded = await loadCheckpoint(dir);
    const hf = withHfNames(loaded.tensors);
    assert.deepEqual([...hf.get("reward_head.bias")!.data], [2]);
    assert.ok(hf.has("model.layers.1.self_attn.q_proj.weight"));
    assert.deepEqual([...fromHfNames(hf).keys()].sort(), [...loaded.tensors.keys()].sort());
    assert.deepEqual(engineConfigInput(loaded), {
      vocabSize: 11,
      dim: 8,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      ffnDim: 12,
      maxSeqLen: 64,
      ropeTheta: 10000,
      normEps: 1e-5,
      tiedEmbeddings: true,
      qkvBias: false,
      valueHead: true,
      rewardHead: true,
    });
    // The heads no transformers class has are kept out of model.safetensors.
    const main = await readSafetensors(join(dir, "model.safetensors"));
    const heads = await readSafetensors(join(dir, HEADS_FILE));
    assert.deepEqual([...heads.tensors.keys()].sort(), [
      "reward_head.bias",
      "reward_head.weight",
      "value_head.bias",
      "value_head.weight",
    ]);
    assert.ok(
      ![...main.tensors.keys()].some((k) => k.includes("head.")),
      "no head tensor in model.safetensors",
    );
  } finally {
    await rm(dir, { recursive: true });
  }
  // Qwen2's q/k/v biases run on the decoder; Llama's attention_bias (o_proj too) does not.
  const qwen = { config: config("qwen2", true), tensors: randomTensors(config("qwen2", true)), ignored: [] };
  assert.equal(engineConfigInput(qwen).qkvBias, true);
  const llamaBias = { ...qwen, config: { ...qwen.config, architecture: "llama" as const } };
  assert.throws(
    () => engineConfigInput(llamaBias),
    /does not implement attention_bias \(it biases o_proj too\)/,
  );
});
