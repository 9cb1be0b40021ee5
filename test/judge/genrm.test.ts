import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Message } from "../../src/core/schemas.ts";
import { JudgeCache } from "../../src/judge/cache.ts";
import {
  GenRM,
  pYesFromLogprobs,
  pYesFromSamples,
  render,
  type VerdictBackend,
} from "../../src/judge/genrm.ts";

// An in-process judge model: it prefers the longer of A and B, with a position bias toward
// A. Its answers are a real distribution over first tokens, as a server would return.
function lengthJudge(bias = 0.2): VerdictBackend & { calls: number } {
  const parse = (messages: Message[]) => {
    const text = messages[0]?.content ?? "";
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(text)?.[1] ?? "";
    const b = /\[Response B\]\n([\s\S]*?)\n\nIs Response A/.exec(text)?.[1] ?? "";
    const z = (a.length - b.length) / 4 + bias;
    return 1 / (1 + Math.exp(-z));
  };
  const backend = {
    model: "length-judge",
    calls: 0,
    async firstTokenLogprobs(messages: Message[]) {
      backend.calls++;
      const p = parse(messages);
      return [
        { token: "ĠYES", logprob: Math.log(p * 0.9) },
        { token: "NO", logprob: Math.log((1 - p) * 0.9) },
        { token: "Maybe", logprob: Math.log(0.1) },
      ];
    },
    async sample(messages: Message[], n: number) {
      backend.calls++;
      const k = Math.round(parse(messages) * n);
      return Array.from({ length: n }, (_, i) => (i < k ? "YES." : "No, B is better."));
    },
  };
  return backend;
}

test("p(YES) is read from top logprobs across tokenizer space marks, renormalised over YES/NO", () => {
  const p = pYesFromLogprobs([
    { token: "ĠYes", logprob: Math.log(0.3) },
    { token: "▁yes", logprob: Math.log(0.3) },
    { token: "No", logprob: Math.log(0.2) },
    { token: "The", logprob: Math.log(0.2) },
  ]);
  assert.ok(Math.abs((p ?? 0) - 0.75) < 1e-12);
  assert.equal(pYesFromLogprobs([{ token: "The", logprob: 0 }]), undefined);
  assert.equal(pYesFromSamples(["YES", "no.", "I think yes", "unsure"]), 2 / 3);
});

test("templates render once: placeholders inside responses are not expanded", () => {
  assert.equal(
    render("{{prompt}}|{{first}}|{{second}}", { prompt: "p", first: "{{second}}", second: "s" }),
    "p|{{second}}|s",
  );
});

test("both orders cancel position bias: identical responses score 0.5", async () => {
  const g = new GenRM({ backend: lengthJudge(0.8) });
  const r = await g.judgeOne(
    { id: 1, domain: "general", prompt: "q", response: "same text", reference: { response: "same text" } },
    "bon",
  );
  assert.ok(Math.abs(r.score - 0.5) < 1e-9, String(r.score));
  const single = new GenRM({ backend: lengthJudge(0.8), bothOrders: false });
  const s = await single.judgeOne(
    { id: 1, domain: "general", prompt: "q", response: "same text", reference: { response: "same text" } },
    "bon",
  );
  assert.ok(s.score > 0.6, "a single order keeps the judge's bias");
});

test("scores order responses by the judge's preference; sampling mode agrees in direction", async () => {
  for (const samples of [0, 16]) {
    const g = new GenRM({ backend: lengthJudge(), samples });
    const ref = { response: "a reference answer" };
    const [short, same, long] = await g.judge(
      [
        { id: "s", domain: "general", prompt: "q", response: "short", reference: ref },
        { id: "m", domain: "general", prompt: "q", response: "an equal-length one", reference: ref },
        {
          id: "l",
          domain: "general",
          prompt: "q",
          response: "a much, much longer and more complete answer",
          reference: ref,
        },
      ],
      "bon",
    );
    assert.ok(
      (short?.score ?? 1) < (same?.score ?? 0) && (same?.score ?? 1) < (long?.score ?? 0),
      `samples=${samples}`,
    );
    assert.equal(long?.source, "genrm:bon");
    assert.equal(long?.verdict, "correct");
  }
});

test("missing reference is invalid; a failing backend is an error verdict with the cause", async () => {
  const g = new GenRM({ backend: lengthJudge() });
  const inv = await g.judgeOne({ id: 1, domain: "stem", prompt: "q", response: "x" }, "gt");
  assert.equal(inv.verdict, "invalid");
  const down: VerdictBackend = {
    model: "down",
    firstTokenLogprobs: async () => {
      throw new Error("fetch failed: ECONNREFUSED");
    },
    sample: async () => [],
  };
  const e = await new GenRM({ backend: down }).judgeOne(
    { id: 2, domain: "stem", prompt: "q", response: "x", reference: { answer: "y" } },
    "gt",
  );
  assert.equal(e.verdict, "error");
  assert.deepEqual(e.error, { code: "judge_backend", message: "fetch failed: ECONNREFUSED" });
  const mute: VerdictBackend = {
    model: "mute",
    firstTokenLogprobs: async () => [{ token: "Hmm", logprob: 0 }],
    sample: async () => [],
  };
  const nv = await new GenRM({ backend: mute }).judgeOne(
    { id: 3, domain: "stem", prompt: "q", response: "x", reference: { answer: "y" } },
    "gt",
  );
  assert.equal(nv.error?.code, "no_verdict");
});

test("the persistent cache makes a re-run cost no backend calls", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "ds-cache-")), "judge.sqlite");
  const rollouts = [
    { id: 1, domain: "stem", prompt: "q", response: "forty-two", reference: { answer: "42" } },
  ];
  const first = lengthJudge();
  const a = await new GenRM({ backend: first, cache: new JudgeCache(path) }).judge(rollouts, "gt");
  assert.equal(first.calls, 2);
  const second = lengthJudge();
  const g2 = new GenRM({ backend: second, cache: new JudgeCache(path) });
  const b = await g2.judge(rollouts, "gt");
  assert.equal(second.calls, 0);
  assert.equal(a[0]?.score, b[0]?.score);
  await g2.close();
});

test("a batching backend gets each distinct question once, in one call, with the per-question results", async () => {
  const one = lengthJudge(0.3);
  const calls: number[] = [];
  const many: VerdictBackend = {
    ...one,
    firstTokenLogprobs: (m, k) => one.firstTokenLogprobs(m, k),
    sample: (m, n, t) => one.sample(m, n, t),
    async firstTokenLogprobsMany(questions, topK) {
      calls.push(questions.length);
      return Promise.all(questions.map((q) => one.firstTokenLogprobs(q, topK)));
    },
  };
  const rollout = (id: number, response: string) => ({
    id,
    domain: "general",
    prompt: "q",
    response,
    reference: { response: "ref" },
  });
  // Four rollouts, two distinct responses: 2 questions × 2 orders = 4 distinct questions.
  const batch = [rollout(1, "a"), rollout(2, "bbbb"), rollout(3, "a"), rollout(4, "bbbb")];
  const batched = await new GenRM({ backend: many }).judge(batch, "bon");
  assert.deepEqual(calls, [4]);
  const single = await new GenRM({ backend: lengthJudge(0.3) }).judge(batch, "bon");
  assert.deepEqual(
    batched.map((r) => r.score),
    single.map((r) => r.score),
  );
  // A question the backend could not answer is that rollout's error, not the batch's.
  const failing: VerdictBackend = {
    ...many,
    async firstTokenLogprobsMany(questions) {
      return questions.map((q) =>
        (q[0]?.content ?? "").includes("bbbb") ? new Error("too long") : [{ token: "YES", logprob: 0 }],
      );
    },
  };
  const mixed = await new GenRM({ backend: failing }).judge(batch, "bon");
  assert.deepEqual(
    mixed.map((r) => r.verdict),
    ["correct", "error", "correct", "error"],
  );
  assert.equal(mixed[1]?.error?.code, "judge_backend");
  // GenRM needs a reference: `none` is an invalid rollout, never a score.
  const [none] = await new GenRM({ backend: many }).judge([rollout(5, "a")], "none");
  assert.equal(none?.verdict, "invalid");
});
