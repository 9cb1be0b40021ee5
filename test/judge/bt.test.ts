// Bradley–Terry scoring with a real reward-head decoder: in-process and over HTTP (our model
// server's vLLM-style /classify), through the reward router, and Best-of-N references.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { OpenAIBackend } from "../../src/backend/openai-http.ts";
import { BTJudge } from "../../src/judge/bt.ts";
import { JudgeCache } from "../../src/judge/cache.ts";
import { buildReferences } from "../../src/judge/references.ts";
import { saveCheckpoint } from "../../src/model/checkpoint.ts";
import { Decoder } from "../../src/model/decoder.ts";
import { createStepModel, decoderCheckpoint } from "../../src/model/decoder-step-model.ts";
import { selectKernel } from "../../src/model/kernels/index.ts";
import { trainByteLevelBpe } from "../../src/model/tokenizer/bpe-train.ts";
import { CHATML_TEMPLATE } from "../../src/model/tokenizer/chat-template.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem } from "../../src/reward/system.ts";
import { type RunningModelServer, startModelServer } from "../../src/serve/model-server.ts";

let dir: string;
let modelDir: string;
let backend: EmbeddedBackend;
let server: RunningModelServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "bt-"));
  modelDir = join(dir, "rm");
  const texts = [
    "What is 2+2? 4",
    "Name a colour. Blue is a colour.",
    "hello there",
    "<|im_start|>user\nhi<|im_end|>",
  ];
  const tokenizerJson = trainByteLevelBpe(texts, {
    vocabSize: 300,
    specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
  });
  const decoder = new Decoder(
    {
      vocabSize: 300,
      dim: 32,
      nLayers: 1,
      nHeads: 4,
      nKvHeads: 4,
      ffnDim: 64,
      maxSeqLen: 256,
      rewardHead: true,
    },
    selectKernel("ts"),
  );
  decoder.initWeights(11);
  // Reward heads start at zero; give this one weights so scores differ between texts.
  const head = decoder.p.rewardW;
  assert.ok(head !== undefined);
  for (let i = 0; i < head.length; i++) head[i] = Math.sin(i * 12.9898) * 0.5;
  await saveCheckpoint(modelDir, decoderCheckpoint(decoder), {
    tokenizerJson,
    tokenizerConfig: { eos_token: "<|im_end|>", pad_token: "<|endoftext|>", chat_template: CHATML_TEMPLATE },
  });
  backend = await EmbeddedBackend.fromDirectory(modelDir, createStepModel, { name: "rm" });
  server = await startModelServer({ backend, port: 0 });
});
after(async () => {
  await server.close();
  await backend.close();
  await rm(dir, { recursive: true });
});

test("/classify over HTTP returns the reward head's scores, as in-process", async () => {
  const client = new OpenAIBackend({ baseUrl: server.url, model: "rm", maxRetries: 0 });
  try {
    const texts = ["What is 2+2?\n4", "What is 2+2?\nfive", "hello"];
    const local = await backend.classify(texts);
    const remote = await client.classify(texts);
    assert.equal(remote.length, 3);
    for (const [i, x] of remote.entries()) assert.ok(Math.abs(x - (local[i] as number)) < 1e-5);
    assert.notEqual(local[0], local[1]);
  } finally {
    await client.close();
  }
});

test("BT score is σ(r(response) − r(reference)): parity at 0.5, and it follows the reward gap", async () => {
  const judge = new BTJudge(new OpenAIBackend({ baseUrl: server.url, model: "rm", maxRetries: 0 }));
  const [same, other] = await judge.judge(
    [
      {
        id: 1,
        domain: "general",
        prompt: "Name a colour.",
        response: "Blue.",
        reference: { response: "Blue." },
      },
      {
        id: 2,
        domain: "general",
        prompt: "Name a colour.",
        response: "Red is one.",
        reference: { response: "Blue." },
      },
    ],
    "bon",
  );
  // Parity with the reference: 0.5 up to rounding (a BLAS kernel may round two identical rows of
  // one batch differently, by ≈1e-7).
  assert.ok(Math.abs((same?.score ?? 0) - 0.5) < 1e-5, String(same?.score));
  assert.equal(same?.source, "bt");
  const r = other?.details?.["reward"] as number;
  const ref = other?.details?.["referenceReward"] as number;
  assert.ok(Math.abs((other?.score ?? 0) - 1 / (1 + Math.exp(-(r - ref)))) < 1e-12);
  await judge.close();
});

test("the BT cache makes a re-run cost no backend calls", async () => {
  const path = join(dir, "bt-cache.sqlite");
  let calls = 0;
  const counting = new OpenAIBackend({ baseUrl: server.url, model: "rm", maxRetries: 0 });
  const classify = counting.classify.bind(counting);
  counting.classify = async (texts, options) => {
    calls += texts.length;
    return classify(texts, options);
  };
  const rollouts = [
    {
      id: 1,
      domain: "general",
      prompt: "Name a colour.",
      response: "Red.",
      reference: { response: "Blue." },
    },
  ];
  const first = await new BTJudge(counting, undefined, new JudgeCache(path)).judge(rollouts, "bon");
  assert.equal(calls, 2);
  const again = new BTJudge(counting, undefined, new JudgeCache(path));
  const second = await again.judge(rollouts, "bon");
  assert.equal(calls, 2);
  assert.equal(second[0]?.score, first[0]?.score);
  await again.close();
});

test("a BT judge from a reward config, through the router", async () => {
  const config = parseRewardConfig({
    judges: { rm: { kind: "bt", backend: { type: "openai", baseUrl: server.url, model: "rm", retries: 0 } } },
    routes: [{ match: { domain: "*" }, reward: { type: "judge", judge: "rm", reference: "bon" } }],
    verify: { workers: 1 },
  });
  const system = await createRewardSystem(config);
  try {
    const [r] = await system.rewardFn([
      {
        id: "x",
        domain: "creative",
        prompt: "A haiku",
        response: "Leaves fall",
        reference: { response: "Leaves fall" },
      },
    ]);
    assert.equal(r?.source, "bt");
    assert.ok(Math.abs((r?.score ?? 0) - 0.5) < 1e-5, String(r?.score));
  } finally {
    await system.close();
  }
});

test("Best-of-N references: the best-scored sample becomes reference.response; a killed run resumes", async () => {
  const input = join(dir, "tasks.jsonl");
  const tasks = [
    { id: "t1", domain: "general", prompt: "What is 2+2?" },
    { id: "t2", domain: "general", messages: [{ role: "user", content: "Name a colour." }] },
    { id: "t3", domain: "general", prompt: "Say hello." },
  ];
  await writeFile(input, `${tasks.map((t) => JSON.stringify(t)).join("\n")}\n{bad line\n`);
  const policy = await EmbeddedBackend.fromDirectory(modelDir, createStepModel, { name: "policy" });
  const rmJudge = new BTJudge(new OpenAIBackend({ baseUrl: server.url, model: "rm", maxRetries: 0 }));
  const base = { input, policy, rm: rmJudge, n: 4, maxTokens: 6, temperature: 1, seed: 5, batch: 2 };
  try {
    const full = join(dir, "full.jsonl");
    const summary = await buildReferences({ ...base, output: full, resume: false });
    assert.deepEqual(summary, { written: 3, skippedResumed: 0, badLines: 1 });
    const rows = (await readFile(full, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const row of rows) {
      const refs = row.meta.references as { scores: number[]; samples: string[]; best: number };
      assert.equal(refs.scores.length, 4);
      assert.equal(refs.best, refs.scores.indexOf(Math.max(...refs.scores)));
      assert.equal(row.reference.response, refs.samples[refs.best]);
    }
    // A kill after the first line leaves one complete line and a torn one; --resume finishes the job.
    const partial = join(dir, "partial.jsonl");
    const text = await readFile(full, "utf8");
    const firstLine = text.slice(0, text.indexOf("\n") + 1);
    await writeFile(partial, `${firstLine}{"id":"t2","dom`);
    const resumed = await buildReferences({ ...base, output: partial, resume: true });
    assert.equal(resumed.skippedResumed, 1);
    assert.equal(resumed.written, 2);
    assert.equal(await readFile(partial, "utf8"), text);
  } finally {
    await policy.close();
    await rmJudge.close();
  }
});
