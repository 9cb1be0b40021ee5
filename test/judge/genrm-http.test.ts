// GenRM over HTTP against our own model server (top_logprobs), cross-checked with the same
// model in-process, and wired through the reward router from a config.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import type { Rollout } from "../../src/core/schemas.ts";
import { verdictsFrom } from "../../src/judge/backend-verdicts.ts";
import { makeJudge } from "../../src/judge/factory.ts";
import { GenRM } from "../../src/judge/genrm.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem } from "../../src/reward/system.ts";
import { type RunningModelServer, startModelServer } from "../../src/serve/model-server.ts";
import { writeTinyModel } from "../fixtures/tiny-model.ts";
import { createStepModel } from "../fixtures/zero-layer-llama.ts";

// A bigram "judge" that answered YES three times for every NO in its training dialogues.
const DIALOGUES = [
  { user: "Is Response A at least as good as Response B?", assistant: "YES" },
  { user: "Is A at least as good as B? Answer YES or NO.", assistant: "YES" },
  { user: "Compare the two responses.", assistant: "YES" },
  { user: "Is the first one better?", assistant: "NO" },
];

let dir: string;
let embedded: EmbeddedBackend;
let server: RunningModelServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "genrm-"));
  await writeTinyModel(dir, DIALOGUES);
  embedded = await EmbeddedBackend.fromDirectory(dir, createStepModel, { name: "judge" });
  server = await startModelServer({ backend: embedded, port: 0 });
});
after(async () => {
  await server.close();
  await embedded.close();
  await rm(dir, { recursive: true });
});

const rollout: Rollout = {
  id: "r1",
  domain: "stem",
  prompt: "What is 6*7?",
  response: "42",
  reference: { answer: "42" },
};

test("p(YES) read from the server's top_logprobs matches the model in-process", async () => {
  const http = await makeJudge("genrm", {
    kind: "genrm",
    backend: {
      type: "openai",
      baseUrl: server.url,
      model: "judge",
      concurrency: 4,
      timeoutMs: 10_000,
      retries: 0,
    },
    templates: {},
    bothOrders: false,
    samples: 0,
  });
  const local = new GenRM({ backend: verdictsFrom(embedded), bothOrders: false });
  const [viaHttp] = await http.judge([rollout], "gt");
  const [inProcess] = await local.judge([rollout], "gt");
  assert.equal(viaHttp?.verdict, "correct", JSON.stringify(viaHttp));
  assert.equal(viaHttp?.source, "genrm:gt");
  assert.ok(
    Math.abs((viaHttp?.score ?? 0) - (inProcess?.score ?? 1)) < 1e-6,
    `${viaHttp?.score} vs ${inProcess?.score}`,
  );
  // A bigram model sees only the last token, so p(YES) is its YES:NO ratio, 3:1.
  assert.ok(Math.abs((viaHttp?.score ?? 0) - 0.75) < 0.02, String(viaHttp?.score));
  await http.close?.();
});

test("both orders cancel a judge that always leans YES: parity at 0.5", async () => {
  const judge = await makeJudge("genrm", {
    kind: "genrm",
    backend: {
      type: "openai",
      baseUrl: server.url,
      model: "judge",
      concurrency: 4,
      timeoutMs: 10_000,
      retries: 0,
    },
    templates: {},
    bothOrders: true,
    samples: 0,
  });
  const [r] = await judge.judge([rollout], "gt");
  assert.ok(Math.abs((r?.score ?? 0) - 0.5) < 1e-6);
  await judge.close?.();
});

test("the reward router sends non-verifiable rollouts to GenRM over HTTP; a dead server is an error verdict", async () => {
  const config = parseRewardConfig({
    judges: {
      genrm: {
        kind: "genrm",
        backend: { type: "openai", baseUrl: server.url, model: "judge", retries: 0 },
      },
      dead: {
        kind: "genrm",
        backend: {
          type: "openai",
          baseUrl: "http://127.0.0.1:9/v1",
          model: "judge",
          retries: 0,
          timeoutMs: 2000,
        },
      },
    },
    routes: [
      { match: { domain: "stem" }, reward: { type: "judge", judge: "genrm", reference: "gt" } },
      { match: { domain: "creative" }, reward: { type: "judge", judge: "dead", reference: "bon" } },
    ],
    verify: { workers: 1 },
  });
  const system = await createRewardSystem(config, { makeJudge: (name, jc) => makeJudge(name, jc) });
  try {
    const [ok, down] = await system.rewardFn([
      rollout,
      {
        id: "r2",
        domain: "creative",
        prompt: "A poem",
        response: "Roses",
        reference: { response: "Violets" },
      },
    ]);
    assert.equal(ok?.source, "genrm:gt");
    assert.ok(Math.abs((ok?.score ?? 0) - 0.5) < 1e-6);
    assert.equal(down?.verdict, "error");
    assert.equal(down?.error?.code, "judge_backend");
  } finally {
    await system.close();
  }
});

test("a judge backend that stalls past its timeout is an error verdict naming the timeout", async () => {
  const { createServer } = await import("node:http");
  const stalled = createServer(() => {
    // Accept the request and never answer.
  });
  await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
  const { port } = stalled.address() as { port: number };
  const judge = await makeJudge("slow", {
    kind: "genrm",
    backend: {
      type: "openai",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: "judge",
      concurrency: 2,
      timeoutMs: 300,
      retries: 0,
    },
    templates: {},
    bothOrders: true,
    samples: 0,
  });
  try {
    const t0 = performance.now();
    const [r] = await judge.judge([rollout], "gt");
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(r?.verdict, "error");
    assert.equal(r?.error?.code, "judge_backend");
    assert.match(String(r?.error?.message), /no complete response within 300 ms/);
  } finally {
    await judge.close?.();
    stalled.closeAllConnections();
    await new Promise((resolve) => stalled.close(resolve));
  }
});

test("in-process batched judging: a question longer than the model holds errors alone, the batch's others are scored", async () => {
  const judge = new GenRM({ backend: verdictsFrom(embedded, { batched: true }), bothOrders: false });
  const long = { ...rollout, id: "long", response: "x".repeat(600) };
  const rewards = await judge.judge([rollout, long, { ...rollout, id: "r3", response: "41" }], "gt");
  assert.deepEqual(
    rewards.map((r) => r.verdict === "error"),
    [false, true, false],
    JSON.stringify(rewards),
  );
  assert.match(JSON.stringify(rewards[1]), /the model holds/);
  // The same answers as judged one at a time (the batch changed nothing for the others).
  const alone = await judge.judge([rollout], "gt");
  assert.ok(Math.abs(rewards[0]!.score - alone[0]!.score) < 1e-6);
});
