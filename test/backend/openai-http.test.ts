// The HTTP client's resilience, against real servers started here: our model server's
// handler behind wrappers that fail, stall, or answer slowly.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { OpenAIBackend } from "../../src/backend/openai-http.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import { createModelServerHandler } from "../../src/serve/model-server.ts";
import { bigramCheckpoint, bigramLogProbs, ZeroLayerLlama } from "../fixtures/zero-layer-llama.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const tok = new ByteTokenizer();
const backend = new EmbeddedBackend({
  name: "bytes",
  tokenizer: tok,
  model: new ZeroLayerLlama(
    bigramCheckpoint(bigramLogProbs(tok, ["hello world", "hello there"]), tok.vocabSize),
  ),
});
const real = createModelServerHandler({ backend });
const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await backend.close();
});

const request = { prompt: "hello", maxTokens: 4, temperature: 0 };

test("retries transient failures with backoff, then succeeds", async () => {
  let calls = 0;
  const url = await serve((req, res) => {
    calls++;
    if (calls <= 2) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "warming up" } }));
      return;
    }
    return real(req, res);
  });
  const client = new OpenAIBackend({ baseUrl: url, model: "bytes", maxRetries: 3, backoffMs: 5 });
  const [r] = await client.generate([request]);
  assert.equal(r!.completions[0]!.text, " the");
  assert.equal(calls, 3);
});

test("Retry-After is honoured; 4xx errors are not retried and carry the server's message", async () => {
  let calls = 0;
  const url = await serve((req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(429, { "retry-after": "1", "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "slow down" } }));
      return;
    }
    return real(req, res);
  });
  const client = new OpenAIBackend({
    baseUrl: url,
    model: "bytes",
    maxRetries: 2,
    backoffMs: 1,
    maxBackoffMs: 5000,
  });
  const started = performance.now();
  await client.generate([request]);
  assert.ok(performance.now() - started >= 900, "waited for Retry-After");
  calls = 10;
  await assert.rejects(client.generate([{ ...request, temperature: 9 }]), (error: Error) => {
    assert.match(error.message, /HTTP 400: temperature: /);
    assert.doesNotMatch(error.message, /attempts/);
    return true;
  });
  assert.equal(calls, 11);
});

test("a server that never answers times out on every attempt", async () => {
  let calls = 0;
  const url = await serve(() => {
    calls++; // hold the request open forever
  });
  const client = new OpenAIBackend({
    baseUrl: url,
    model: "bytes",
    timeoutMs: 150,
    maxRetries: 1,
    backoffMs: 5,
  });
  const started = performance.now();
  await assert.rejects(client.generate([request]), /no complete response within 150 ms \(after 2 attempts\)/);
  assert.equal(calls, 2);
  assert.ok(performance.now() - started < 2000);
});

test("at most `concurrency` requests are in flight", async () => {
  let active = 0;
  let peak = 0;
  const url = await serve(async (req, res) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 40));
    res.on("finish", () => active--);
    return real(req, res);
  });
  const client = new OpenAIBackend({ baseUrl: url, model: "bytes", concurrency: 3 });
  const results = await client.generate(Array.from({ length: 9 }, () => request));
  assert.equal(results.length, 9);
  assert.equal(peak, 3);
  assert.equal(client.inFlight, 0);
});

test("malformed responses are rejected naming the field; unreachable servers fail after retries", async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ choices: [{ index: 0, text: 5, finish_reason: "stop" }] }));
  });
  const client = new OpenAIBackend({ baseUrl: url, model: "bytes" });
  await assert.rejects(client.generate([request]), /unexpected response: choices\.0\.text: /);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const nowhere = new OpenAIBackend({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: "x",
    maxRetries: 2,
    backoffMs: 5,
  });
  await assert.rejects(nowhere.generate([request]), /request failed: .*\(after 3 attempts\)/);
});

test("a caller's abort stops the request at once, without retries", async () => {
  let calls = 0;
  const url = await serve(() => {
    calls++;
  });
  const client = new OpenAIBackend({ baseUrl: url, model: "bytes", maxRetries: 5 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("caller gave up")), 50);
  await assert.rejects(client.generate([request], { signal: controller.signal }), /caller gave up/);
  assert.equal(calls, 1);
});

test("a stream that breaks after deltas were delivered is an error, not a replay", async () => {
  let calls = 0;
  const url = await serve((_req, res) => {
    calls++;
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: "hel", finish_reason: null }] })}\n\n`);
    setTimeout(() => res.destroy(), 20);
  });
  const client = new OpenAIBackend({ baseUrl: url, model: "bytes", maxRetries: 3, backoffMs: 5 });
  const deltas: string[] = [];
  await assert.rejects(
    client.generate([request], { onDelta: (_r, _c, d) => deltas.push(d.text) }),
    /stream broke off/,
  );
  assert.deepEqual(deltas, ["hel"]);
  assert.equal(calls, 1);
});
