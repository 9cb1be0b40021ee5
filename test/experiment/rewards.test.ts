// The experiment's reward sources: RTV is the gold verifier, the judges give scores in [0, 1],
// a missing Best-of-N reference is an `error` (never a silent 0), and the hybrid system sends
// each domain to its source in input order.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import type { Rollout } from "../../src/core/schemas.ts";
import { hybridRewardFn, rewardFns } from "../../src/experiment/rewards.ts";
import { goldAnswer, hybridSource, WORLD } from "../../src/experiment/world.ts";
import { createKernel } from "../../src/model/kernels/index.ts";
import { getFamily } from "../../src/tasks/index.ts";
import { byteTokenizer, newDecoder } from "../../src/train/models.ts";

const kernel = createKernel("ts");
after(() => kernel.close());
const tokenizer = byteTokenizer();
const shape = { vocabSize: tokenizer.vocabSize, dim: 16, nLayers: 1, nHeads: 2, maxSeqLen: 128 };
const fns = rewardFns({
  tokenizer,
  bt: newDecoder({ ...shape, rewardHead: true }, 1, kernel),
  genrm: newDecoder(shape, 2, kernel),
});

function rollout(family: string, response: (truth: string) => string, bon?: string): Rollout {
  const f = WORLD.find((w) => w.family === family)!;
  const t = getFamily(family)!.generate(11, f.difficulties[0]!);
  const truth = goldAnswer({ ...t, domain: f.domain });
  return {
    ...t,
    id: `${family}-x`,
    domain: f.domain,
    response: response(truth),
    ...(bon === undefined ? {} : { meta: { ...t.meta, bon } }),
  };
}

it("RTV is the family verifier: the truth scores 1, a wrong answer 0", async () => {
  const [right, wrong] = await fns.rtv([rollout("sorting", (a) => a), rollout("sorting", (a) => `${a} 9`)]);
  assert.equal(right?.score, 1);
  assert.equal(right?.verdict, "correct");
  assert.equal(wrong?.score, 0);
});

it("judges score in [0, 1] and name their source", async () => {
  for (const source of ["genrm-gt", "genrm-bon", "bt"] as const) {
    const rs = await fns[source]([rollout("string_transform", (a) => a, "xyz")]);
    assert.equal(rs[0]?.source, source);
    assert.ok(rs[0]!.score >= 0 && rs[0]!.score <= 1, `${source}: ${rs[0]?.score}`);
  }
});

it("a task without a Best-of-N reference is an error verdict for GenRM-BoN, not a 0", async () => {
  const [r] = await fns["genrm-bon"]([rollout("multiple_choice", (a) => a)]);
  assert.equal(r?.verdict, "error");
  assert.equal(r?.error?.code, "no_reference");
});

it("the hybrid system routes each domain to its source and keeps input order", async () => {
  const hybrid = hybridRewardFn(fns);
  const batch = WORLD.map((f) => rollout(f.family, (a) => a, "ref"));
  const rewards = await hybrid(batch);
  assert.equal(rewards.length, batch.length);
  rewards.forEach((r, i) => {
    assert.equal(r.id, batch[i]!.id);
    const want = hybridSource(batch[i]!.domain);
    assert.equal(r.source === "rtv:logic" ? "rtv" : r.source, want, `${batch[i]!.domain}`);
  });
});
