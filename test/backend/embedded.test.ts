import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import { writeTinyModel } from "../fixtures/tiny-model.ts";
import { bigramCheckpoint, bigramLogProbs, ZeroLayerLlama } from "../fixtures/zero-layer-llama.ts";

let dir: string;
let backend: EmbeddedBackend;
let model: ZeroLayerLlama;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "embedded-"));
  await writeTinyModel(dir);
  backend = await EmbeddedBackend.fromDirectory(dir, (checkpoint) => {
    model = new ZeroLayerLlama(checkpoint);
    return model;
  });
});

after(async () => {
  await backend.close();
  await rm(dir, { recursive: true });
});

const ask = (content: string) => [{ role: "user", content }];

test("chat generation renders the template, stops at <|im_end|>, and reports token logprobs", async () => {
  const [r] = await backend.generate([
    {
      messages: ask("What sound does the owl make?"),
      temperature: 0,
      maxTokens: 40,
      logprobs: true,
      topLogprobs: 3,
    },
  ]);
  const c = r!.completions[0]!;
  assert.match(c.text, /^The /);
  assert.ok(!c.text.includes("<|im_end|>"));
  assert.equal(r!.completionTokens, c.tokenIds!.length);
  assert.ok(r!.promptTokens > 5);
  assert.equal(c.tokens!.length, c.tokenIds!.length);
  for (const t of c.tokens!) {
    assert.ok(t.logprob <= 0);
    // Greedy: the chosen token is the most likely one.
    assert.equal(t.topLogprobs![0]!.id, t.id);
    assert.equal(t.topLogprobs!.length, 3);
  }
  // Sampled answers end with <|im_end|> (the last id), as every answer in training did.
  const [sampled] = await backend.generate([
    { messages: ask("Name an animal like the bee."), n: 8, seed: 5, maxTokens: 60 },
  ]);
  const stopped = sampled!.completions.filter((s) => s.finishReason === "stop");
  assert.ok(stopped.length > 0);
  for (const s of stopped) assert.equal(s.tokenIds!.at(-1), 299);
});

test("n completions with a seed are distinct from each other and reproducible", async () => {
  const request = { prompt: "The", n: 4, seed: 11, maxTokens: 12, temperature: 1 };
  const [a] = await backend.generate([request]);
  const [b] = await backend.generate([request]);
  assert.deepEqual(
    a!.completions.map((c) => c.text),
    b!.completions.map((c) => c.text),
  );
  assert.ok(new Set(a!.completions.map((c) => c.text)).size >= 2);
});

test("concurrent calls are merged into one batch", async () => {
  model.stepRows.length = 0;
  const calls = Array.from({ length: 6 }, (_, i) =>
    backend.generate([{ prompt: "The cat", seed: i, maxTokens: 8, temperature: 1 }]),
  );
  const results = await Promise.all(calls);
  assert.equal(results.length, 6);
  // The first call runs alone; the five that queued behind it share later steps.
  assert.ok(Math.max(...model.stepRows) >= 5, `rows per step: ${model.stepRows}`);
});

test("score gives the same logprobs generation reported, plus entropies", async () => {
  const messages = ask("Name an animal like the fox.");
  const [r] = await backend.generate([{ messages, temperature: 0, maxTokens: 6, logprobs: true }]);
  const c = r!.completions[0]!;
  const [s] = await backend.score([{ messages, continuation: c.text }]);
  assert.deepEqual(
    s!.tokens.map((t) => t.id),
    c.tokenIds!.slice(0, s!.tokens.length),
  );
  for (const [i, t] of s!.tokens.entries()) {
    assert.ok(Math.abs(t.logprob! - c.tokens![i]!.logprob) < 1e-6);
    assert.ok(t.entropy! >= 0);
  }
  assert.ok(Math.abs(s!.logprob - s!.tokens.reduce((a, t) => a + t.logprob!, 0)) < 1e-9);
});

test("requests a model cannot serve fail with a clear error; others in the batch still succeed", async () => {
  const tok = new ByteTokenizer();
  const plain = new EmbeddedBackend({
    name: "bytes",
    tokenizer: tok,
    model: new ZeroLayerLlama(bigramCheckpoint(bigramLogProbs(tok, ["abc"]), tok.vocabSize)),
  });
  const bad = plain.generate([{ messages: ask("hi") }]);
  const good = plain.generate([{ prompt: "ab", maxTokens: 2, temperature: 0 }]);
  await assert.rejects(bad, /model 'bytes' has no chat template/);
  const done = (await good)[0]!.completions[0]!;
  assert.equal(done.text, "c", "after 'abc' the model ends the text");
  assert.equal(done.finishReason, "stop");
  await assert.rejects(
    plain.generate([{ prompt: "x", messages: ask("y") }]),
    /exactly one of prompt and messages/,
  );
  const [empty] = await plain.score([{ prompt: "", continuation: "abc" }]);
  assert.equal(empty!.tokens[0]!.logprob, null, "the first token has no context");
  assert.ok(empty!.tokens[1]!.logprob! > Math.log(1 / tok.vocabSize) + 1, "'b' after 'a' is likely");
  await plain.close();
});

test("score with continuationIds scores a sample's own tokens exactly, stop token included", async () => {
  const messages = ask("What sound does the cat make?");
  const [r] = await backend.generate([{ messages, n: 4, seed: 2, maxTokens: 30, logprobs: true }]);
  const scored = await backend.score(
    r!.completions.map((c) => ({ messages, continuation: c.text, continuationIds: c.tokenIds })),
  );
  for (const [i, c] of r!.completions.entries()) {
    const s = scored[i]!;
    assert.deepEqual(
      s.tokens.map((t) => t.id),
      c.tokenIds,
    );
    for (const [j, t] of s.tokens.entries()) assert.ok(Math.abs(t.logprob! - c.tokens![j]!.logprob) < 1e-6);
  }
  await assert.rejects(
    backend.score([{ prompt: "a", continuation: "", continuationIds: [1e6] }]),
    /outside the vocabulary/,
  );
});
