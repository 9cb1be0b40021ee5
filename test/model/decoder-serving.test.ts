// The engine's decoder end to end: saved as an HF checkpoint, loaded back bit-exactly,
// served by the embedded Backend and by the OpenAI-compatible model server, and the HTTP
// client reproduces the in-process results.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { OpenAIBackend } from "../../src/backend/openai-http.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.ts";
import { Decoder } from "../../src/model/decoder.ts";
import { createStepModel, decoderCheckpoint, loadDecoder } from "../../src/model/decoder-step-model.ts";
import { selectKernel } from "../../src/model/kernels/index.ts";
import { trainByteLevelBpe } from "../../src/model/tokenizer/bpe-train.ts";
import { CHATML_TEMPLATE } from "../../src/model/tokenizer/chat-template.ts";
import { type RunningModelServer, startModelServer } from "../../src/serve/model-server.ts";

const TEXTS = ["the cat sat on the mat", "a dog ran in the park", "7+5=12", "<|im_start|>user\nhi<|im_end|>"];
let dir: string;
let decoder: Decoder;
let backend: EmbeddedBackend;
let server: RunningModelServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "decoder-serve-"));
  const tokenizerJson = trainByteLevelBpe(TEXTS, {
    vocabSize: 280,
    specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
  });
  const vocabSize = 280;
  decoder = new Decoder(
    { vocabSize, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 64, maxSeqLen: 128 },
    selectKernel("ts"),
  );
  decoder.initWeights(7);
  await saveCheckpoint(dir, decoderCheckpoint(decoder, { eosTokenIds: [] }), {
    tokenizerJson,
    tokenizerConfig: { eos_token: "<|im_end|>", pad_token: "<|endoftext|>", chat_template: CHATML_TEMPLATE },
  });
  backend = await EmbeddedBackend.fromDirectory(dir, createStepModel, { name: "tiny-decoder" });
  server = await startModelServer({ backend, port: 0 });
});
after(async () => {
  await server.close();
  await backend.close();
  await rm(dir, { recursive: true });
});

test("save → load round trip of the decoder's parameters is bit-exact", async () => {
  const loaded = loadDecoder(await loadCheckpoint(dir), selectKernel("ts"));
  assert.equal(loaded.params.length, decoder.params.length);
  assert.deepEqual(Float32Array.from(loaded.params), Float32Array.from(decoder.params));
});

test("the served decoder's logprobs equal the decoder's own forward pass", async () => {
  const [scored] = await backend.score([{ prompt: "the cat", continuation: " sat on" }]);
  // The same text scored from the start gives the token ids of the whole sequence.
  assert.ok(scored !== undefined && scored.tokens.length > 0);
  // Recompute with the decoder directly: log-softmax of forward logits at each position.
  const ids = scored.tokens.map((t) => t.id as number);
  const all = [
    ...((await backend.score([{ prompt: "", continuation: "the cat sat on" }]))[0]?.tokens ?? []),
  ].map((t) => t.id as number);
  const seq = Int32Array.from(all);
  const [logits] = await decoder.logits([seq]);
  assert.ok(logits !== undefined);
  const V = decoder.vocabSize;
  const k = all.length - ids.length;
  for (let j = 0; j < ids.length; j++) {
    const row = logits.subarray((k + j - 1) * V, (k + j) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - max);
    const expected = (row[ids[j] as number] as number) - max - Math.log(z);
    assert.ok(Math.abs((scored.tokens[j]?.logprob ?? 0) - expected) < 1e-4, `token ${j}`);
  }
});

test("seeded sampling over HTTP reproduces the in-process result", async () => {
  const client = new OpenAIBackend({ baseUrl: server.url, model: "tiny-decoder", maxRetries: 0 });
  try {
    const req = {
      messages: [{ role: "user" as const, content: "hi" }],
      maxTokens: 8,
      temperature: 1,
      seed: 3,
      n: 2,
      logprobs: true,
    };
    const [local] = await backend.generate([req]);
    const [remote] = await client.generate([req]);
    assert.deepEqual(
      remote?.completions.map((c) => c.text),
      local?.completions.map((c) => c.text),
    );
    const lp = (r: typeof local) => r?.completions[0]?.tokens?.map((t) => t.logprob) ?? [];
    for (const [i, x] of lp(remote).entries()) assert.ok(Math.abs(x - (lp(local)[i] ?? 0)) < 1e-5);
  } finally {
    await client.close();
  }
});
