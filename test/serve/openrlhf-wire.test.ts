// OpenRLHF against a real reward server with the paper's routing and the real math verifier,
// byte for byte: the requests are the bytes OpenRLHF's clients put on the wire (captured by
// hand from python-requests 2.28.1 as openrlhf/utils/remote_rm_utils.py request_api_wrapper
// sends them, and from aiohttp 3.x as openrlhf/utils/agent.py _fetch_rewards_via_http does,
// OpenRLHF/OpenRLHF 3c3be623), and the answers are read the way OpenRLHF reads them:
// json.loads, then torch.tensor of the numbers (an int64 tensor's .std() raises).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { batchingRewardFn } from "../../src/reward/batching.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem, type RewardSystem } from "../../src/reward/system.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";
import { PYTHON, pyDumps, torchSkip } from "../fixtures/python.ts";

let system: RewardSystem;
let app: FastifyInstance;
let port = 0;

before(async () => {
  system = await createRewardSystem(parseRewardConfig({}), { workers: 1 });
  app = await createRewardServer({ rewardFn: batchingRewardFn(system.rewardFn), domains: system.domains });
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(async () => {
  await app.close();
  await system.close();
});

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends exact request bytes on a fresh connection and reads one response. */
function rawRequest(bytes: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    socket.on("data", (d) => {
      data = Buffer.concat([data, d]);
      const text = data.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      const lines = text.slice(0, end).split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers["content-length"]);
      if (data.length - end - 4 < length) return;
      socket.end();
      resolve({
        status: Number(lines[0]?.split(" ")[1]),
        headers,
        body: data.subarray(end + 4, end + 4 + length).toString("utf8"),
      });
    });
    socket.on("error", reject);
    socket.write(bytes);
  });
}

/** The bytes python-requests 2.28.1 sends for request_api_wrapper(url, data). */
function requestsBytes(path: string, data: unknown): Buffer {
  const body = Buffer.from(pyDumps(data), "utf8");
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: python-requests/2.28.1\r\n` +
    `Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** The bytes aiohttp sends for session.post(url, json=data) (agent.py _fetch_rewards_via_http). */
function aiohttpBytes(path: string, data: unknown): Buffer {
  const body = Buffer.from(pyDumps(data), "utf8");
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n` +
    `User-Agent: Python/3.11 aiohttp/3.14.5\r\nContent-Length: ${body.length}\r\n` +
    `Content-Type: application/json\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

const CHATML_PROMPT = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n";
const one = (response: string, label = "4") => ({
  query: [`${CHATML_PROMPT}${response}<|im_end|>`],
  prompts: [CHATML_PROMPT],
  labels: [label],
});

/** What OpenRLHF does with the body: json.loads, torch.tensor of rewards and scores, .mean()/.std(). */
interface TorchRead {
  dtype: string;
  std: number;
  mean: number;
  /** Whether .std() of an int64 tensor (what JSON integers make) raises. */
  intsRaise: boolean;
}
function torchReads(body: string): TorchRead {
  const script = `
import json, sys, torch
r = json.loads(sys.stdin.read())
t = torch.tensor(r["rewards"])
s = torch.tensor(r["scores"])
extra = {k: torch.tensor(v) for k, v in r["extra_logs"].items()}
try:
    torch.tensor([1, 1, 0]).std()
    ints_raise = False
except RuntimeError:
    ints_raise = True
print(json.dumps({"dtype": str(t.dtype), "std": t.std().item(), "mean": s.mean().item(), "intsRaise": ints_raise}))
`;
  const res = spawnSync(PYTHON, ["-c", script], { input: body, encoding: "utf8" });
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as TorchRead;
}

test("requests (remote_rm_utils): 200 with every number a JSON float, on the wire", async () => {
  const res = await rawRequest(requestsBytes("/get_reward", one("The answer is \\boxed{4}.")));
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers["content-type"] ?? "", /^application\/json/);
  assert.equal(res.body, '{"rewards":[1.0],"scores":[1.0],"extra_logs":{"correct":[1.0],"invalid":[0.0]}}');
});

test("aiohttp (agent.py): same answer; an empty shard (more URLs than samples) answers empty lists", async () => {
  const res = await rawRequest(aiohttpBytes("/get_reward", one("So it is \\boxed{5}.")));
  assert.equal(res.status, 200, res.body);
  assert.equal(res.body, '{"rewards":[0.0],"scores":[0.0],"extra_logs":{"correct":[0.0],"invalid":[0.0]}}');
  const empty = await rawRequest(aiohttpBytes("/get_reward", { query: [], prompts: [], labels: [] }));
  assert.equal(empty.body, '{"rewards":[],"scores":[],"extra_logs":{"correct":[],"invalid":[]}}');
});

test("an all-0/1 batch goes through torch.tensor(...).std() as OpenRLHF's advantage code does", {
  skip: torchSkip(),
}, async () => {
  const batch = {
    query: ["The answer is \\boxed{4}.", "It is \\boxed{4}.", "\\boxed{3}"].map(
      (r) => `${CHATML_PROMPT}${r}<|im_end|>`,
    ),
    prompts: [CHATML_PROMPT, CHATML_PROMPT, CHATML_PROMPT],
    labels: ["4", "4", "4"],
  };
  const res = await rawRequest(requestsBytes("/get_reward", batch));
  assert.equal(res.status, 200, res.body);
  const read = torchReads(res.body);
  assert.equal(read.dtype, "torch.float32");
  assert.ok(Math.abs(read.std - Math.sqrt(1 / 3)) < 1e-6, String(read.std));
  assert.ok(Math.abs(read.mean - 2 / 3) < 1e-6);
  // JSON integers would have made int64, whose .std() raises — the failure this guards against.
  assert.equal(read.intsRaise, true);
});

test("a left-truncated prompt showing \\boxed{4} is never scored as the response", async () => {
  // The reward hack: OpenRLHF cut the start of a long prompt, so the query no longer starts
  // with the prompt; scoring the whole query gave "I am not sure." the prompt's \boxed{4}.
  const prompt = "Worked example: 2+2 = \\boxed{4}. Now you: what is 2+2? Answer: ";
  const truncated = prompt.slice(9);
  const raw = await rawRequest(
    requestsBytes("/get_reward", { query: [`${truncated}I am not sure.`], prompts: [prompt], labels: ["4"] }),
  );
  assert.equal(raw.status, 200, raw.body);
  assert.equal(raw.body, '{"rewards":[0.0],"scores":[0.0],"extra_logs":{"correct":[0.0],"invalid":[1.0]}}');
  const native = await app.inject({
    method: "POST",
    url: "/openrlhf",
    payload: { query: [`${truncated}I am not sure.`], prompts: [prompt], labels: ["4"] },
  });
  assert.equal(native.json().rewards[0], 0);
  // With a chat template the assistant marker still finds the response: scored on what the policy wrote.
  const chatPrompt = `<|im_start|>system\nExample: \\boxed{4}<|im_end|>\n${CHATML_PROMPT}`;
  const cut = chatPrompt.slice(20);
  for (const [response, want] of [
    ["I am not sure.", 0],
    ["Two and two: \\boxed{4}", 1],
  ] as const) {
    const res = await rawRequest(
      requestsBytes("/get_reward", {
        query: [`${cut}${response}<|im_end|>`],
        prompts: [chatPrompt],
        labels: ["4"],
      }),
    );
    assert.equal(JSON.parse(res.body).rewards[0], want, `${response}: ${res.body}`);
  }
});

test("permanent data errors are 4xx naming the field, never a retryable status", async () => {
  const noRef = await rawRequest(
    requestsBytes("/get_reward", one("\\boxed{4}", JSON.stringify({ domain: "math", reference: {} }))),
  );
  assert.equal(noRef.status, 422, noRef.body);
  assert.equal(noRef.headers["retry-after"], undefined);
  assert.match(
    JSON.parse(noRef.body).error.message,
    /^labels\.0: rtv:math: math rollout has no reference\.answer/,
  );
  const badLabel = await rawRequest(requestsBytes("/get_reward", one("x", JSON.stringify({ domain: 7 }))));
  assert.equal(badLabel.status, 400);
  assert.match(JSON.parse(badLabel.body).error.message, /^labels\.0: domain:/);
  const noPrompts = await rawRequest(requestsBytes("/get_reward", { query: ["x"] }));
  assert.equal(noPrompts.status, 400);
  assert.match(JSON.parse(noPrompts.body).error.message, /^prompts: /);
  const unroutable = await rawRequest(
    requestsBytes("/get_reward", one("hello", JSON.stringify({ domain: "poetry", reference: {} }))),
  );
  assert.equal(unroutable.status, 422, unroutable.body);
  assert.match(JSON.parse(unroutable.body).error.message, /^labels\.0: .*no judge 'genrm' is configured/);
});
