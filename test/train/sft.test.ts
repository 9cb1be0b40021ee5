// SFT on the arithmetic family: the masked loss falls, eval loss follows, and the model
// reproduces its training answers under greedy decoding (judged by the logic verifier).
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeExample, padBlock, toPromptResponse } from "../../src/train/data.ts";
import { evaluateOnTasks } from "../../src/train/evaluate.ts";
import { trainSft } from "../../src/train/sft.ts";
import { arithmetic, logicReward, sftPairs, tinyModel, tokenizer } from "./helpers.ts";

test("padding and the response mask: only response tokens (and EOS) carry loss", () => {
  const a = encodeExample(tokenizer, { prompt: "1+2=", response: "3" }, 32);
  // <bos> 1 + 2 = 3 <eos>
  assert.deepEqual(a.ids, [tokenizer.bosId, 49, 43, 50, 61, 51, tokenizer.eosId]);
  const b = encodeExample(tokenizer, { prompt: "9=", response: "9" }, 32);
  const block = padBlock([a, b], tokenizer.eosId!);
  assert.equal(block.T, 6);
  // Row 0 predicts ids[1..6]; the loss covers "3" and <eos> (positions 4 and 5).
  assert.deepEqual(Array.from(block.weights.subarray(0, 6)), [0, 0, 0, 0, 1, 1]);
  // Row 1: <bos> 9 = 9 <eos> → weights on "9" and <eos>, then padding.
  assert.deepEqual(Array.from(block.weights.subarray(6, 12)), [0, 0, 1, 1, 0, 0]);
  const chat = toPromptResponse({
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "yo" },
    ],
  });
  // One user turn is the prompt as is (the same as a prompt/response record), longer
  // histories are role lines: the plain chat template the saved model carries.
  assert.deepEqual(chat, { prompt: "hi", response: "yo" });
  const turns = toPromptResponse({
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
      { role: "assistant", content: "yo" },
    ],
  });
  assert.deepEqual(turns, { prompt: "system: be brief\nuser: hi\nassistant: ", response: "yo" });
});

test("SFT learns arithmetic at difficulty 0: loss falls and the model reproduces its data", async () => {
  const train = arithmetic(400, 0);
  const evalTasks = arithmetic(100, 5000);
  const model = tinyModel(1);
  const losses: number[] = [];
  const result = await trainSft({
    model,
    tokenizer,
    train: sftPairs(train),
    eval: sftPairs(evalTasks),
    options: { steps: 300, batchSize: 32, lr: 3e-3, warmup: 10, seed: 1, evalEvery: 0, checkpointEvery: 0 },
    onStep: (_, m) => losses.push(m["loss"] as number),
  });
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < first / 4, `training loss fell from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  assert.ok(result.evalLoss !== undefined && Number.isFinite(result.evalLoss));
  const acc = await evaluateOnTasks(model, tokenizer, train, logicReward, { maxTokens: 4 });
  const held = await evaluateOnTasks(model, tokenizer, evalTasks, logicReward, { maxTokens: 4 });
  process.stdout.write(`# SFT greedy accuracy: training data ${acc.meanScore}, held-out ${held.meanScore}\n`);
  assert.ok(acc.meanScore >= 0.8, `greedy accuracy on the training data ${acc.meanScore}`);
  assert.ok(held.meanScore >= 0.7, `greedy accuracy on held-out tasks ${held.meanScore}`);
});
