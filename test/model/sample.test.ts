import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type GenerationDelta,
  generate,
  type SamplingParams,
  samplingSupport,
  score,
} from "../../src/model/sample.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import { bigramCheckpoint, bigramLogProbs, ZeroLayerLlama } from "../fixtures/zero-layer-llama.ts";

const TEXTS = [
  "the cat sat on the mat",
  "the dog sat on the log",
  "a cat and a dog are friends",
  "caffè and crème brûlée 🦙",
];
const tok = new ByteTokenizer();
const model = new ZeroLayerLlama(
  bigramCheckpoint(bigramLogProbs(tok, TEXTS), tok.vocabSize, { maxSeqLen: 128, eosTokenId: tok.eosId }),
);
const prompt = (text: string) => [tok.bosId!, ...tok.encode(text)];

function params(extra: Partial<SamplingParams>): SamplingParams {
  return { maxTokens: 24, temperature: 1, stopTokenIds: [tok.eosId!], ...extra };
}

test("seeded sampling is deterministic, seeds differ, and batching does not change a sequence", async () => {
  const one = await generate(model, tok, [{ prompt: prompt("the "), params: params({ seed: 7 }) }]);
  const again = await generate(model, tok, [{ prompt: prompt("the "), params: params({ seed: 7 }) }]);
  assert.deepEqual(again[0]!.tokens, one[0]!.tokens);
  const batch = await generate(model, tok, [
    { prompt: prompt("a cat"), params: params({ seed: 1 }) },
    { prompt: prompt("the "), params: params({ seed: 7 }) },
    ...Array.from({ length: 6 }, (_, i) => ({ prompt: prompt("the "), params: params({ seed: 100 + i }) })),
  ]);
  assert.deepEqual(batch[1]!.tokens, one[0]!.tokens);
  const distinct = new Set(batch.slice(1).map((g) => g.text));
  assert.ok(distinct.size >= 3, `different seeds give different samples: ${[...distinct]}`);
  // One prefill for the whole batch, then one row per running sequence.
  assert.equal(model.stepRows.at(-1)! <= 8, true);
});

test("greedy decoding follows the argmax of the logits; EOS stops and is not in the text", async () => {
  const [g] = await generate(model, tok, [
    { prompt: prompt("the c"), params: params({ temperature: 0, maxTokens: 60 }) },
  ]);
  const seq = prompt("the c");
  for (const t of g!.tokens) {
    const [logits] = await model.logits([Int32Array.from(seq)]);
    const row = logits!.subarray((seq.length - 1) * tok.vocabSize);
    let best = 0;
    for (let i = 1; i < tok.vocabSize; i++) if (row[i]! > row[best]!) best = i;
    assert.equal(t, best);
    seq.push(t);
  }
  assert.equal(g!.finishReason, "length", "a greedy bigram loops");
  // After the llama emoji the only continuation seen in training is the end of the text.
  const [end] = await generate(model, tok, [
    { prompt: prompt("🦙"), params: params({ temperature: 0, maxTokens: 60 }) },
  ]);
  assert.equal(end!.finishReason, "stop");
  assert.equal(end!.stopReason, tok.eosId);
  assert.deepEqual(end!.tokens, [tok.eosId]);
  assert.equal(end!.text, "");
  const [short] = await generate(model, tok, [
    { prompt: prompt("the"), params: params({ temperature: 0, maxTokens: 3 }) },
  ]);
  assert.equal(short!.tokens.length, 3);
  assert.equal(short!.finishReason, "length");
});

test("stop strings cut the text before them; streamed deltas add up and never leak the stop", async () => {
  for (let seed = 0; seed < 20; seed++) {
    const deltas: GenerationDelta[] = [];
    const [g] = await generate(
      model,
      tok,
      [{ prompt: prompt("the"), params: params({ seed, stop: ["sat", "og"], maxTokens: 40 }) }],
      { onDelta: (_i, d) => deltas.push(d) },
    );
    assert.ok(!g!.text.includes("sat") && !g!.text.includes("og"), g!.text);
    const streamed = deltas.map((d) => d.text).join("");
    assert.equal(streamed, g!.text);
    assert.deepEqual(
      deltas.flatMap((d) => d.tokens),
      g!.tokens,
    );
    assert.equal(deltas.at(-1)!.finishReason, g!.finishReason);
    assert.ok(deltas.slice(0, -1).every((d) => d.finishReason === undefined));
    if (g!.finishReason === "stop" && typeof g!.stopReason === "string") {
      const full = tok.decode(g!.tokens);
      assert.ok(full.startsWith(g!.text + g!.stopReason), `${full} vs ${g!.text}`);
    }
  }
});

test("logprobs: a full distribution sums to 1, top_logprobs hold the sampled token, and match score()", async () => {
  const [g] = await generate(model, tok, [
    {
      prompt: prompt("a "),
      params: params({ seed: 3, topK: 5, logprobs: true, topLogprobs: tok.vocabSize }),
    },
  ]);
  for (let i = 0; i < g!.tokens.length; i++) {
    const top = g!.topLogprobs![i]!;
    const mass = top.reduce((a, t) => a + Math.exp(t.logprob), 0);
    assert.ok(Math.abs(mass - 1) < 1e-4, `mass ${mass}`);
    assert.ok(
      top.slice(0, 5).some((t) => t.id === g!.tokens[i]),
      "top-k sampling stays in the top 5",
    );
    assert.equal(top.find((t) => t.id === g!.tokens[i])!.logprob, g!.logprobs![i]);
    for (let j = 1; j < top.length; j++) assert.ok(top[j - 1]!.logprob >= top[j]!.logprob);
  }
  const p = prompt("a ");
  const [s] = await score(model, [{ tokens: [...p, ...g!.tokens], start: p.length }]);
  assert.equal(s!.logprobs.length, g!.tokens.length);
  for (const [i, lp] of s!.logprobs.entries()) assert.ok(Math.abs(lp - g!.logprobs![i]!) < 1e-6);
});

test("temperature, top-k and top-p shape the sampled distribution", async () => {
  const p = prompt("the c");
  const [logits] = await model.logits([Int32Array.from(p)]);
  const row = logits!.subarray((p.length - 1) * tok.vocabSize);
  const order = [...row.keys()].sort((a, b) => row[b]! - row[a]!);
  const n = 400;
  const draw = async (extra: Partial<SamplingParams>) =>
    (
      await generate(
        model,
        tok,
        Array.from({ length: n }, (_, i) => ({
          prompt: p,
          params: params({ maxTokens: 1, seed: i, ...extra }),
        })),
      )
    ).map((g) => g.tokens[0]!);
  const free = await draw({});
  const probs = (id: number) => Math.exp(row[id]! - Math.log(row.reduce((a, x) => a + Math.exp(x), 0)));
  const topFreq = free.filter((t) => t === order[0]).length / n;
  assert.ok(Math.abs(topFreq - probs(order[0]!)) < 0.08, `freq ${topFreq} vs p ${probs(order[0]!)}`);
  const k2 = await draw({ topK: 2 });
  assert.ok(k2.every((t) => t === order[0] || t === order[1]));
  assert.ok(k2.includes(order[1]!));
  const p0 = await draw({ topP: 1e-3 });
  assert.ok(p0.every((t) => t === order[0]));
  const cold = await draw({ temperature: 0.05 });
  assert.ok(cold.filter((t) => t === order[0]).length > n * 0.95);
});

test("score: uniform model gives logprob −ln V and entropy ln V; bad starts are rejected", async () => {
  const v = 17;
  const uniform = new ZeroLayerLlama(bigramCheckpoint(new Float32Array(v * v), v));
  const [s] = await score(uniform, [{ tokens: [1, 2, 3, 4], start: 1, topLogprobs: 2 }]);
  assert.equal(s!.logprobs.length, 3);
  for (const lp of s!.logprobs) assert.ok(Math.abs(lp + Math.log(v)) < 1e-5);
  for (const h of s!.entropies) assert.ok(Math.abs(h - Math.log(v)) < 1e-5);
  assert.equal(s!.topLogprobs![0]!.length, 2);
  await assert.rejects(score(uniform, [{ tokens: [1, 2], start: 0 }]), /start 0 must be in \[1, 2\]/);
  await assert.rejects(
    generate(uniform, tok, [{ prompt: Array(300).fill(1), params: params({}) }]),
    /300 tokens; the model holds 256/,
  );
});

test("the fast top-k/top-p support equals the textbook sort-everything nucleus", () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 300 }),
      fc.double({ min: 0.01, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: 40 }),
      fc.double({ min: 0.1, max: 2, noNaN: true }),
      (values, topP, topK, temperature) => {
        const row = Float32Array.from(values);
        const { ids } = samplingSupport(row, { maxTokens: 1, topP, topK, temperature });
        // Textbook: sort all by probability, keep top-k, renormalize, keep the smallest prefix with mass ≥ p.
        const max = Math.max(...row);
        const w = [...row].map((x) => Math.exp((x - max) / temperature));
        let order = w.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
        if (topK > 0 && topK < order.length) order = order.slice(0, topK);
        if (topP < 1) {
          const total = order.reduce((a, i) => a + w[i]!, 0);
          let mass = 0;
          let n = 0;
          while (n < order.length && mass < topP * total) mass += w[order[n++]!]!;
          order = order.slice(0, Math.max(1, n));
        }
        const expected = (topK > 0 && topK < row.length) || topP < 1 ? order : undefined;
        assert.deepEqual(ids, expected);
      },
    ),
    { numRuns: 300 },
  );
});
