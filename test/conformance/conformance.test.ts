// CI guard for issue 12: on every suite of the conformance corpus we agree at least as often as
// the suite's owner does on its own suite, and on at least 98 % of the math union.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { VerifierRegistry } from "../../src/verify/registry.ts";
import { loadSuites, type SuiteScore, scoreSuite, unionOf } from "./conformance.ts";

const root = dirname(fileURLToPath(import.meta.url));

async function scores(): Promise<SuiteScore[]> {
  const registry = new VerifierRegistry();
  const out: SuiteScore[] = [];
  for (const s of loadSuites(root)) out.push(await scoreSuite(s, registry));
  return out;
}

test("every suite file is valid, names its source commit and its owner's figure", () => {
  const suites = loadSuites(root);
  assert.ok(suites.length >= 11, `${suites.length} suites`);
  for (const s of suites) {
    assert.match(s.source.commit, /^[0-9a-f]{40}$/, s.suite);
    assert.ok(s.owner.how.length > 40, `${s.suite}: say how the owner's figure was measured`);
    // The owner's figure and its list of disagreements tell the same story.
    if (s.owner.disagrees !== undefined) {
      const measured = (s.cases.length - s.owner.disagrees.length) / s.cases.length;
      assert.ok(
        Math.abs(measured - s.owner.agreement) < 1e-3,
        `${s.suite}: ${measured} vs ${s.owner.agreement}`,
      );
    }
    for (const c of s.cases) {
      if (c.disputed !== undefined)
        assert.notEqual(c.disputed.ours, c.expect, `${s.suite} ${c.id}: a dispute must differ`);
    }
  }
});

test("we agree at least as often as each suite's owner, and on ≥ 98 % of the math union", async () => {
  const all = await scores();
  for (const s of all) {
    const misses = s.misses.map((m) => `${m.id}: want ${m.want}, got ${m.got} (${m.reason})`).join("\n  ");
    assert.ok(s.ours >= s.owner, `${s.suite}: ours ${s.ours} < owner ${s.owner}\n  ${misses}`);
  }
  const union = unionOf(all);
  assert.ok((union["math"] ?? 0) >= 0.98, `math union ${union["math"]}`);
  // Instruction following: IFEval's and IFBench's suites are there, and over their union we
  // agree at least as often as their owners do (case-weighted).
  const ins = all.filter((s) => s.domain === "instruction");
  assert.ok(ins.length >= 2, "the IFEval and IFBench suites");
  const n = ins.reduce((a, s) => a + s.cases, 0);
  const ownerUnion = ins.reduce((a, s) => a + s.owner * s.cases, 0) / n;
  assert.ok(
    (union["instruction"] ?? 0) >= ownerUnion,
    `instruction union ${union["instruction"]} < owner ${ownerUnion}`,
  );
});

test("npm run conformance prints the table and ends with one JSON line", () => {
  const out = execFileSync(process.execPath, [join(root, "run.ts")], { encoding: "utf8" });
  const lines = out.trimEnd().split("\n");
  assert.match(lines[0]!, /^\| suite \| domain \| cases \|/);
  const last = JSON.parse(lines.at(-1)!) as {
    bench: string;
    suites: { suite: string; domain: string; cases: number; ours: number; owner: number }[];
    union: Record<string, number | null>;
  };
  assert.equal(last.bench, "conformance");
  assert.ok(last.suites.length >= 11);
  for (const s of last.suites) {
    assert.deepEqual(Object.keys(s).sort(), ["cases", "domain", "ours", "owner", "suite"]);
    assert.ok(s.ours >= 0 && s.ours <= 1 && s.owner >= 0 && s.owner <= 1);
  }
  assert.ok("math" in last.union && "instruction" in last.union);
});
