// The pieces of the pointwise (reference) GenRM trainer: its examples are the served judge's
// questions token for token, and its balanced accuracy is the main job's definition.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { openBackend } from "../../src/backend/open.ts";
import {
  balancedAccuracy,
  REFERENCE_GENRM_TEMPLATE,
  referenceEval,
  referenceExample,
  servingBackend,
} from "../../src/train/genrm-reference.ts";
import { saveModel } from "../../src/train/rundir.ts";
import { tinyModel, tokenizer } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ds-genrm-reference-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a judgement's example is BOS + the served question (response first, reference second), answered YES/NO", async () => {
  const model = tinyModel(2);
  const live = await servingBackend(model, tokenizer);
  // The model directory the trainer writes, opened as `datascale serve-reward` opens it.
  saveModel(join(dir, "model"), model, tokenizer);
  const served = (await openBackend({ type: "embedded", model: join(dir, "model") })) as EmbeddedBackend;
  try {
    const judgement = { prompt: "2+2=", response: "5", reference: "4", label: false };
    const byHand = [tokenizer.bosId!, ...new TextEncoder().encode("2+2=\nA:5\nref:4\nA=ref?")];
    const viaLive = await referenceExample(REFERENCE_GENRM_TEMPLATE, judgement, (m) =>
      live.encodeInput({ messages: m }),
    );
    const viaServed = await referenceExample(REFERENCE_GENRM_TEMPLATE, judgement, (m) =>
      served.encodeInput({ messages: m }),
    );
    assert.deepEqual(viaLive.promptIds, byHand);
    assert.deepEqual(viaServed.promptIds, byHand);
    assert.equal(viaLive.response, "NO");
    const yes = await referenceExample("{{second}}|{{first}}", { ...judgement, label: true }, (m) =>
      live.encodeInput({ messages: m }),
    );
    assert.deepEqual(yes.promptIds, [tokenizer.bosId!, ...new TextEncoder().encode("4|5")]);
    assert.equal(yes.response, "YES");
  } finally {
    await live.close();
    await served.close();
  }
});

test("balanced accuracy: the mean of the YES and NO items' accuracies at p ≥ 0.5, judge errors left out", () => {
  const labels = [true, true, true, false];
  const p = [0.9, 0.4, Number.NaN, 0.2];
  // YES: 1 of 2 scored right; NO: 1 of 1.
  assert.equal(balancedAccuracy(labels, p), 0.75);
  const ev = referenceEval(labels, p);
  assert.deepEqual(
    { ...ev, brier: Number(ev.brier.toFixed(12)) },
    {
      balancedAccuracy: 0.75,
      yesAccuracy: 0.5,
      noAccuracy: 1,
      brier: Number(((0.1 ** 2 + 0.6 ** 2 + 0.2 ** 2) / 3).toFixed(12)),
      yesItems: 2,
      noItems: 1,
      errors: 1,
    },
  );
  // A judge that always says YES on 9 YES items and 1 NO item is at chance, not at 90 %.
  const skewed = [...Array(9).fill(true), false];
  assert.equal(balancedAccuracy(skewed, Array(10).fill(0.7)), 0.5);
  // p = 0.5 exactly is a YES.
  assert.equal(balancedAccuracy([true, false], [0.5, 0.5]), 0.5);
  assert.equal(referenceEval([false], [0.1]).yesAccuracy, null);
});
