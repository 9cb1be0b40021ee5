// The instruction suites of the conformance corpus (issue 12): every case scored through
// the verifier registry, as the corpus runner does. A case agrees when our verdict is the
// suite's `expect`, or, for a disputed case, the verdict the dispute records (which must
// stay what we return, so a dispute cannot go stale). Threshold: per suite we agree at
// least as often as the suite's owner does on its own suite.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { Rollout } from "../../../src/core/schemas.ts";
import { VerifierRegistry } from "../../../src/verify/registry.ts";

const Suite = z.strictObject({
  suite: z.string().min(1),
  domain: z.literal("instruction"),
  source: z.strictObject({
    repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
    path: z.string().min(1),
    commit: z.string().regex(/^[0-9a-f]{40}$/),
  }),
  owner: z.strictObject({ agreement: z.number().min(0).max(1), how: z.string().min(40) }),
  cases: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        rollout: Rollout,
        expect: z.enum(["correct", "incorrect"]),
        disputed: z
          .strictObject({ ours: z.enum(["correct", "incorrect"]), why: z.string().min(20) })
          .optional(),
      }),
    )
    .min(1),
});

const DIR = import.meta.dirname;
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

test("instruction suites: we agree at least as often as each suite's owner", async () => {
  assert.ok(files.length >= 2, "IFEval and IFBench suites are present");
  const verifier = await new VerifierRegistry([]).get("instruction");
  assert.ok(verifier !== undefined);
  let agreed = 0;
  let total = 0;
  for (const file of files) {
    const parsed = Suite.safeParse(JSON.parse(readFileSync(join(DIR, file), "utf8")));
    assert.ok(parsed.success, `${file}: ${parsed.success ? "" : JSON.stringify(parsed.error.issues[0])}`);
    const suite = parsed.data;
    assert.equal(
      new Set(suite.cases.map((c) => c.id)).size,
      suite.cases.length,
      `${file}: duplicate case ids`,
    );
    let ok = 0;
    for (const c of suite.cases) {
      const r = await verifier.verify(c.rollout);
      if (c.disputed !== undefined) {
        assert.notEqual(c.disputed.ours, c.expect, `${file} ${c.id}: a dispute must disagree with the suite`);
        assert.equal(
          r.verdict,
          c.disputed.ours,
          `${file} ${c.id}: the dispute no longer matches our verdict`,
        );
        ok++;
      } else if (r.verdict === c.expect) ok++;
    }
    const ours = ok / suite.cases.length;
    console.log(
      `${suite.suite}: ${suite.cases.length} cases, ours ${ours.toFixed(4)}, owner ${suite.owner.agreement}`,
    );
    assert.ok(ours >= suite.owner.agreement, `${suite.suite}: ours ${ours} < owner ${suite.owner.agreement}`);
    agreed += ok;
    total += suite.cases.length;
  }
  console.log(`instruction union: ${agreed}/${total} = ${(agreed / total).toFixed(4)}`);
});
