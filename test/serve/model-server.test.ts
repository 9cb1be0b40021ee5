// The model server and the OpenAI-compatible client, tested against each other: a real
// server over the tiny model, started here on 127.0.0.1:0.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { OpenAIBackend } from "../../src/backend/openai-http.ts";
import type { CompletionDelta } from "../../src/backend/types.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import type { StepModel } from "../../src/model/types.ts";
import {
  createModelServerHandler,
  type RunningModelServer,
  startModelServer,
} from "../../src/serve/model-server.ts";
import { writeTinyModel } from "../fixtures/tiny-model.ts";
import {
  bigramCheckpoint,
  bigramLogProbs,
  createStepModel,
  ZeroLayerLlama,
} from "../fixtures/zero-layer-llama.ts";

let dir: string;
let embedded: EmbeddedBackend;
let server: RunningModelServer;
let client: OpenAIBackend;
const MODEL = "tiny";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "serve-"));
  await writeTinyModel(dir);
  embedded = await EmbeddedBackend.fromDirectory(dir, createStepModel, { name: MODEL });
  server = await startModelServer({ backend: embedded, port: 0, bodyLimitBytes: 64 * 1024 });
  client = new OpenAIBackend({ baseUrl: server.url, model: MODEL, maxRetries: 0 });
});

after(async () => {
  await client.close();
  await server.close();
  await embedded.close();
  await rm(dir, { recursive: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function sse(path: string, body: unknown): Promise<unknown[]> {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const text = await res.text();
  const events = text.split("\n\n").filter((e) => e.length > 0);
  assert.equal(events.at(-1), "data: [DONE]");
  return events.slice(0, -1).map((e) => {
    assert.ok(e.startsWith("data: "), e);
    return JSON.parse(e.slice(6));
  });
}

const messages = [{ role: "user", content: "What sound does the fox make?" }];

test("GET /v1/models lists the served model", async () => {
  const res = await fetch(`${server.url}/models`);
  assert.equal(res.status, 200);
  assert.deepEqual(((await res.json()) as { data: { id: string }[] }).data[0]!.id, MODEL);
});

test("/v1/completions returns OpenAI-shaped choices, logprobs with top_logprobs, and usage", async () => {
  const { status, json } = await post("/completions", {
    model: MODEL,
    prompt: ["The fox", "The owl"],
    n: 2,
    max_tokens: 5,
    temperature: 0,
    logprobs: 3,
  });
  assert.equal(status, 200);
  assert.equal(json.object, "text_completion");
  const choices = json.choices as {
    index: number;
    text: string;
    finish_reason: string;
    logprobs: {
      tokens: string[];
      token_logprobs: number[];
      top_logprobs: Record<string, number>[];
      text_offset: number[];
    };
  }[];
  assert.deepEqual(
    choices.map((c) => c.index),
    [0, 1, 2, 3],
  );
  for (const c of choices) {
    assert.equal(c.logprobs.tokens.join(""), c.text);
    assert.equal(c.logprobs.token_logprobs.length, c.logprobs.tokens.length);
    assert.equal(c.logprobs.text_offset[0], 0);
    for (const [i, top] of c.logprobs.top_logprobs.entries()) {
      assert.ok(Object.keys(top).length <= 3);
      // Greedy: the sampled token is the best alternative.
      assert.equal(Math.max(...Object.values(top)), c.logprobs.token_logprobs[i]);
    }
  }
  const usage = json.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.equal(
    usage.completion_tokens,
    choices.reduce((a, c) => a + c.logprobs.tokens.length, 0),
  );
});

test("/v1/chat/completions: n choices, logprobs with bytes and top_logprobs", async () => {
  const { status, json } = await post("/chat/completions", {
    model: MODEL,
    messages,
    n: 3,
    seed: 4,
    max_tokens: 30,
    logprobs: true,
    top_logprobs: 2,
  });
  assert.equal(status, 200);
  assert.equal(json.object, "chat.completion");
  const choices = json.choices as {
    message: { role: string; content: string };
    logprobs: { content: { token: string; logprob: number; bytes: number[]; top_logprobs: unknown[] }[] };
    finish_reason: string;
  }[];
  assert.equal(choices.length, 3);
  for (const c of choices) {
    assert.equal(c.message.role, "assistant");
    const bytes = c.logprobs.content.flatMap((t) => t.bytes);
    // The bytes of every token are the answer's UTF-8, plus the special tokens the text leaves out.
    const text = new TextDecoder().decode(new Uint8Array(bytes));
    assert.equal(text.replace(/<\|im_end\|>|<\|im_start\|>|<\|endoftext\|>/g, ""), c.message.content);
    for (const t of c.logprobs.content) assert.equal(t.top_logprobs.length, 2);
  }
});

test("streaming chat: role first, deltas add up to the non-streamed answer, finish_reason, usage, [DONE]", async () => {
  const body = { model: MODEL, messages, seed: 9, max_tokens: 40, temperature: 0.8 };
  const whole = await post("/chat/completions", body);
  const chunks = (await sse("/chat/completions", {
    ...body,
    stream: true,
    stream_options: { include_usage: true },
  })) as {
    object: string;
    choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
    usage?: { completion_tokens: number };
  }[];
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
  assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
  const content = chunks.flatMap((c) => c.choices.map((x) => x.delta.content ?? "")).join("");
  const expected = (whole.json.choices as { message: { content: string } }[])[0]!.message.content;
  assert.equal(content, expected);
  const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((f) => f !== null);
  assert.equal(finishes.length, 1);
  assert.ok(chunks.length > 3, "streamed in several chunks");
  assert.equal(chunks.at(-1)!.choices.length, 0);
  assert.equal(
    chunks.at(-1)!.usage!.completion_tokens,
    (whole.json.usage as { completion_tokens: number }).completion_tokens,
  );
});

test("streaming completions with a stop string never sends the stop text", async () => {
  const chunks = (await sse("/completions", {
    prompt: "<|im_start|>assistant\nThe",
    max_tokens: 50,
    temperature: 0.3,
    seed: 1,
    stop: ["says", "is an"],
    stream: true,
    logprobs: 0,
  })) as { choices: { text: string; finish_reason: string | null; logprobs: { tokens: string[] } }[] }[];
  const text = chunks.map((c) => c.choices[0]!.text).join("");
  assert.ok(!text.includes("says") && !text.includes("is an"), text);
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, "stop");
  assert.ok(chunks.every((c) => Array.isArray(c.choices[0]!.logprobs.tokens)));
});

test("bad requests get 400s naming the field; wrong model 404; oversize body 413", async () => {
  const cases: [string, unknown, number, RegExp][] = [
    ["/completions", { prompt: "x", temperature: 5 }, 400, /^temperature: /],
    ["/completions", { prompt: "x", n: 0 }, 400, /^n: /],
    ["/completions", { prompt: [1, 2, 3] }, 400, /^prompt: .*token-id prompts are not supported/],
    ["/completions", { prompt: "x", presence_penalty: 0.5 }, 400, /presence_penalty is not supported/],
    ["/completions", { prompt: "x", logprobs: 21 }, 400, /^logprobs: /],
    ["/completions", { prompt: "x", max_tokens: -1 }, 400, /^max_tokens: /],
    ["/chat/completions", { model: MODEL }, 400, /^messages: /],
    ["/chat/completions", { messages: [{ role: "wizard", content: "x" }] }, 400, /^messages\.0\.role: /],
    ["/chat/completions", { messages, top_logprobs: 2 }, 400, /top_logprobs: requires logprobs/],
    ["/completions", "{not json", 400, /body is not valid JSON/],
    ["/completions", { prompt: "x", model: "gpt-9" }, 404, /model 'gpt-9' does not exist/],
    ["/completions", { prompt: "x".repeat(70 * 1024) }, 413, /exceeds the limit of 65536 bytes/],
  ];
  for (const [path, body, status, message] of cases) {
    const res = await post(path, body);
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
    const error = res.json.error as { message: string; type: string; param: string | null };
    assert.match(error.message, message);
  }
  const res = await post("/completions", { prompt: "x", temperature: 5 });
  assert.equal((res.json.error as { param: string }).param, "temperature");
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  assert.equal((await fetch(`${server.url}/completions`)).status, 405);
});

test("the HTTP client reproduces the embedded backend through the server, streamed or not", async () => {
  const requests = [
    { messages, seed: 3, maxTokens: 20, logprobs: true, topLogprobs: 2 },
    { prompt: "The cat", n: 2, seed: 8, maxTokens: 10, logprobs: true },
  ];
  const direct = await embedded.generate(requests);
  const viaHttp = await client.generate(requests);
  for (const [i, r] of direct.entries()) {
    const h = viaHttp[i]!;
    assert.deepEqual(
      h.completions.map((c) => c.text),
      r.completions.map((c) => c.text),
    );
    assert.deepEqual(
      h.completions.map((c) => c.tokens!.map((t) => t.logprob)),
      r.completions.map((c) => c.tokens!.map((t) => t.logprob)),
    );
    assert.equal(h.promptTokens * (requests[i]!.n ?? 1), r.promptTokens * (requests[i]!.n ?? 1));
  }
  assert.equal(viaHttp[0]!.completions[0]!.tokens![0]!.topLogprobs!.length, 2);
  const deltas: [number, number, CompletionDelta][] = [];
  const streamed = await client.generate(requests, { onDelta: (r, c, d) => deltas.push([r, c, d]) });
  assert.deepEqual(
    streamed.map((r) => r.completions.map((c) => c.text)),
    direct.map((r) => r.completions.map((c) => c.text)),
  );
  const second = deltas
    .filter(([r, c]) => r === 1 && c === 1)
    .map(([, , d]) => d.text)
    .join("");
  assert.equal(second, direct[1]!.completions[1]!.text);
});

test("the HTTP client scores continuations through echo; same logprobs as the embedded backend", async () => {
  const request = { prompt: "<|im_start|>assistant\n", continuation: "The owl says hello." };
  const [http] = await client.score([request]);
  const [local] = await embedded.score([request]);
  assert.deepEqual(
    http!.tokens.map((t) => t.token),
    local!.tokens.map((t) => t.token),
  );
  for (const [i, t] of http!.tokens.entries())
    assert.ok(Math.abs(t.logprob! - local!.tokens[i]!.logprob!) < 1e-9);
  await assert.rejects(client.score([{ messages, continuation: "x" }]), /scores plain-text prompts only/);
});

test("for servers without n (llama.cpp), the client fans out with seed + i and matches the embedded backend", async () => {
  let sawN = 0;
  const handler = createModelServerHandler({ backend: embedded });
  const noN = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { n?: number };
    sawN = Math.max(sawN, body.n ?? 1);
    if ((body.n ?? 1) > 1) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Only one completion choice is allowed" } }));
      return;
    }
    // Replay the consumed body into our handler.
    const replay = Object.assign(Readable.from([Buffer.concat(chunks)]), {
      url: req.url,
      method: req.method,
      headers: req.headers,
    });
    await handler(replay as unknown as IncomingMessage, res);
  });
  await new Promise<void>((r) => noN.listen(0, "127.0.0.1", r));
  const port = (noN.address() as { port: number }).port;
  try {
    const request = { messages, n: 3, seed: 21, maxTokens: 15, temperature: 1 };
    const strict = new OpenAIBackend({ baseUrl: `http://127.0.0.1:${port}/v1`, model: MODEL });
    await assert.rejects(strict.generate([request]), /HTTP 400: Only one completion choice is allowed/);
    const fanned = new OpenAIBackend({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: MODEL,
      nativeN: false,
    });
    const [viaFanOut] = await fanned.generate([request]);
    const [direct] = await embedded.generate([request]);
    assert.deepEqual(
      viaFanOut!.completions.map((c) => c.text),
      direct!.completions.map((c) => c.text),
    );
    assert.equal(viaFanOut!.completionTokens, direct!.completionTokens);
  } finally {
    noN.closeAllConnections();
    await new Promise((r) => noN.close(r));
  }
});

test("a client that disconnects mid-stream stops its generation; the server carries on", async () => {
  const tok = new ByteTokenizer();
  const model = new ZeroLayerLlama(
    bigramCheckpoint(bigramLogProbs(tok, ["abcdefghij klmnop"]), tok.vocabSize, { maxSeqLen: 5000 }),
  );
  // 2 ms per step: 2000 tokens would take seconds if the disconnect were ignored.
  const slow: StepModel = {
    vocabSize: model.vocabSize,
    maxSeqLen: model.maxSeqLen,
    newCache: () => model.newCache(),
    logits: (seqs) => model.logits(seqs),
    step: async (caches, tokens) => {
      await new Promise((r) => setTimeout(r, 2));
      return model.step(caches as never[], tokens);
    },
  };
  const backend = new EmbeddedBackend({ name: "slow", tokenizer: tok, model: slow, stopTokenIds: [] });
  const own = await startModelServer({ backend });
  try {
    const controller = new AbortController();
    const res = await fetch(`${own.url}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a", max_tokens: 2000, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await assert.rejects(reader.read());
    await new Promise((r) => setTimeout(r, 200));
    const steps = model.stepRows.length;
    assert.ok(steps < 200, `generation stopped after ${steps} steps`);
    const res2 = await fetch(`${own.url}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a", max_tokens: 3, temperature: 0 }),
    });
    assert.equal(res2.status, 200);
    assert.equal(((await res2.json()) as { choices: { text: string }[] }).choices[0]!.text, "bcd");
  } finally {
    await own.close();
    await backend.close();
  }
});
