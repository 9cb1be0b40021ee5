// Admission, error shapes and the retry cache on a real server whose reward function the
// test holds: requests stay in flight until the test releases them.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { errorReward } from "../../src/core/rewards.ts";
import type { Reward, Rollout } from "../../src/core/schemas.ts";
import { countArrayItems } from "../../src/serve/admission.ts";
import { createRewardServer, NativeResponse } from "../../src/serve/reward-server.ts";
import { compileSerializer, Float, floatText } from "../../src/serve/schema.ts";

let app: FastifyInstance;
let base = "";
let port = 0;
let gate: Promise<void> = Promise.resolve();
const scored = new Map<string, number>();
const failing = new Set<string>();

before(async () => {
  app = await createRewardServer({
    maxQueue: 4,
    bodyLimit: 4 * 1024 * 1024,
    rewardFn: async (rollouts: readonly Rollout[]): Promise<Reward[]> => {
      await gate;
      return rollouts.map((r) => {
        scored.set(r.response, (scored.get(r.response) ?? 0) + 1);
        if (failing.has(r.response))
          return errorReward(r.id, "genrm", "judge_failed", "connect ECONNREFUSED");
        return {
          id: r.id,
          score: r.response === "good" ? 1 : 0,
          verdict: r.response === "good" ? "correct" : "incorrect",
          source: "t",
        };
      });
    },
  });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(async () => {
  await app.close();
});

const rollouts = (n: number, response = "good") =>
  Array.from({ length: n }, (_, i) => ({ id: i, domain: "x", response, reference: {} }));
const post = (path: string, body: string | object) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const inflight = async () =>
  ((await (await fetch(`${base}/health`)).json()) as { queue: { rollouts: { inflight: number } } }).queue
    .rollouts.inflight;

/** Sends only the request head and returns the status line the server answers with. */
function headOnly(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    s.on("data", (d) => {
      resolve(d.toString("latin1"));
      s.destroy();
    });
    s.on("error", reject);
    s.write(head);
  });
}

test("a full queue is refused before the body is parsed: even a body that is not JSON gets 429", async () => {
  let open!: () => void;
  gate = new Promise((r) => {
    open = r;
  });
  const held = post("/v1/rewards", { rollouts: rollouts(4) });
  while ((await inflight()) < 4) await new Promise((r) => setTimeout(r, 5));
  const refused = await post("/v1/rewards", "{this is not json");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "overloaded");
  // The head alone is enough to refuse: no body byte has been sent.
  const line = await headOnly(
    "POST /openrlhf HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
  );
  assert.match(line, /^HTTP\/1\.1 429 /);
  open();
  assert.equal((await held).status, 200);
  assert.equal(await inflight(), 0);
});

test("a body over the body limit is a 413 naming the limit, from the headers alone", async () => {
  const line = await headOnly(
    `POST /v1/rewards HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`,
  );
  assert.match(line, /^HTTP\/1\.1 413 /);
  assert.match(line, /body limit of 4194304 bytes \(--body-limit\)/);
});

test("more rollouts than the whole queue is a permanent 413 even on an idle server; a big body is counted unparsed", async () => {
  const res = await post("/v1/rewards", { rollouts: rollouts(5) });
  assert.equal(res.status, 413);
  assert.match(
    ((await res.json()) as { error: { message: string } }).error.message,
    /5 rollouts .*--max-queue 4/,
  );
  // Over 1 MB: counted by a scan of the text; the unbalanced tail proves it was never parsed.
  const big = `{"rollouts":[${rollouts(6, "x".repeat(200_000))
    .map((r) => JSON.stringify(r))
    .join(",")}], "tail": [[[`;
  const scanned = await post("/v1/rewards", big);
  assert.equal(scanned.status, 413);
  assert.equal(await inflight(), 0);
});

test("units stay held until the route has answered, even when the client gave up", async () => {
  let open!: () => void;
  gate = new Promise((r) => {
    open = r;
  });
  const ac = new AbortController();
  const gone = post("/v1/rewards", { rollouts: rollouts(3) });
  void fetch(`${base}/v1/rewards`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rollouts: rollouts(1) }),
    signal: ac.signal,
  }).catch(() => undefined);
  while ((await inflight()) < 4) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await inflight(), 4, "an abandoned request's work is still queued");
  open();
  await gone;
  for (let i = 0; i < 100 && (await inflight()) > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await inflight(), 0);
});

test("an infrastructure failure fails an OpenRLHF request with 503; its retry re-scores only what failed", async () => {
  gate = Promise.resolve();
  failing.add("judged");
  const body = { query: ["p good", "p judged"], prompts: ["p ", "p "], labels: ["a", "a"] };
  const first = await post("/openrlhf", body);
  assert.equal(first.status, 503);
  assert.equal(first.headers.get("retry-after"), "1");
  assert.match(
    ((await first.json()) as { error: { message: string } }).error.message,
    /^labels\.1: genrm: connect/,
  );
  failing.delete("judged");
  const retry = await post("/openrlhf", body);
  assert.equal(retry.status, 200);
  assert.equal(
    await retry.text(),
    '{"rewards":[1.0,0.0],"scores":[1.0,0.0],"extra_logs":{"correct":[1.0,0.0],"invalid":[0.0,0.0]}}',
  );
  assert.equal(scored.get("good") !== undefined && scored.get("judged"), 2);
  const goodBefore = scored.get("good");
  assert.equal((await post("/openrlhf", body)).status, 200);
  assert.equal(scored.get("good"), (goodBefore as number) + 1, "the kept reward is used once");
});

test("every error has one shape: 404, 415, bad JSON, a bad field", async () => {
  const shape = z.object({ error: z.object({ code: z.string(), message: z.string().min(1) }) }).strict();
  const nf = await fetch(`${base}/v2/nothing`);
  assert.equal(nf.status, 404);
  assert.equal(shape.parse(await nf.json()).error.code, "not_found");
  const media = await fetch(`${base}/v1/rewards`, {
    method: "POST",
    headers: { "content-type": "application/xml" },
    body: "<x/>",
  });
  assert.equal(media.status, 415);
  shape.parse(await media.json());
  const bad = await post("/v1/rewards", "{nope");
  assert.equal(bad.status, 400);
  assert.match(shape.parse(await bad.json()).error.message, /^body: /);
  const field = await post("/v1/rewards", { rollouts: [{ id: 1, domain: "x", response: 3 }] });
  assert.match(shape.parse(await field.json()).error.message, /^rollouts\.0\.response: /);
});

test("countArrayItems counts without parsing: strings with brackets, escapes, nesting, empty arrays", () => {
  const t = (v: unknown, f = "rollouts") => countArrayItems(Buffer.from(JSON.stringify(v)), f);
  assert.equal(t({ rollouts: [] }), 0);
  assert.equal(t({ rollouts: [1, "a,b]", { x: [1, 2, { "]": '\\"],[' }] }, [3, 4]] }), 4);
  assert.equal(t({ other: [1, 2], rollouts: ["\\"] }), 1);
  assert.equal(t({ nested: { rollouts: [1, 2, 3] }, rollouts: [1] }), 1);
  assert.equal(t({ query: ["x"] }), undefined);
  assert.equal(countArrayItems(Buffer.from('{"rollouts": [1, 2'), "rollouts"), undefined);
  assert.equal(t({ rollouts: ['é"ü]', "日本,語"] }), 2);
});

test("Floats are written with a decimal point; everything else as JSON.stringify writes it", () => {
  assert.deepEqual([1, 0, -0, 0.5, 1e-7, 12345678901234567000, 1e21, -3].map(floatText), [
    "1.0",
    "0.0",
    "0.0",
    "0.5",
    "1e-7",
    "12345678901234567000.0",
    "1e+21",
    "-3.0",
  ]);
  assert.throws(() => floatText(Number.NaN), /non-finite/);
  const ser = compileSerializer(
    z.object({
      a: z.array(Float),
      b: z.record(z.string(), z.array(Float)),
      c: z.string(),
      d: Float.optional(),
      e: z.unknown(),
    }),
  );
  const value = { a: [1, 0.25], b: { k: [0] }, c: 'q"', e: { n: 1 } };
  assert.equal(ser(value), '{"a":[1.0,0.25],"b":{"k":[0.0]},"c":"q\\"","e":{"n":1}}');
  assert.deepEqual(JSON.parse(ser(value)), value);
  // Native rewards: Float object fields, patched in JSON.stringify's text (keys only, never string contents).
  const native = compileSerializer(NativeResponse);
  const tricky = {
    rewards: [
      {
        id: 'x,"score":1}',
        score: 1,
        verdict: "correct",
        source: "s",
        details: { reason: '{"score":2,', parts: [{ score: 0 }] },
      },
    ],
  };
  const text = native(tricky);
  assert.equal(
    text,
    '{"rewards":[{"id":"x,\\"score\\":1}","score":1.0,"verdict":"correct","source":"s","details":{"reason":"{\\"score\\":2,","parts":[{"score":0.0}]}}]}',
  );
  assert.deepEqual(JSON.parse(text), tricky);
  // A schema without Floats is JSON.stringify itself.
  assert.equal(compileSerializer(z.object({ n: z.number() }))({ n: 1 }), '{"n":1}');
});
