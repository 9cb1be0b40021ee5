// The conformance corpus (issue 12): the field's own test suites transcribed as data, one file
// per suite under test/conformance/<domain>/<suite>.json, scored through the verifier registry.
// Domain-agnostic: each case's rollout names its domain and the registry picks the verifier.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Rollout } from "../../src/core/schemas.ts";
import type { VerifierRegistry } from "../../src/verify/registry.ts";

/** What a case can be judged: the suite's two, plus ours when a suite's expectation is wrong. */
const Outcome = z.enum(["correct", "incorrect", "invalid", "error"]);
type Outcome = z.infer<typeof Outcome>;

// Loose objects: another domain's suites may carry fields of their own (an instruction id, a
// compat mode); the fields every suite needs are checked.
const Case = z.looseObject({
  id: z.string().min(1),
  rollout: Rollout.omit({ id: true }),
  expect: z.enum(["correct", "incorrect"]),
  note: z.string().optional(),
  disputed: z.strictObject({ ours: Outcome, why: z.string().min(10) }).optional(),
});

export const Suite = z.looseObject({
  suite: z.string().min(1),
  domain: z.string().min(1),
  source: z.strictObject({
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
    path: z.string().min(1),
    commit: z.string().regex(/^[0-9a-f]{40}$/),
  }),
  owner: z.looseObject({
    /** The owner's implementation on its own suite, against the suite's expectations. */
    agreement: z.number().min(0).max(1),
    how: z.string().min(10),
    /** Ids of the cases where the owner's verdict differs from the suite's expectation. */
    disagrees: z.array(z.string()).optional(),
  }),
  cases: z.array(Case).min(1),
});
export type Suite = z.infer<typeof Suite>;

export interface SuiteScore {
  suite: string;
  domain: string;
  cases: number;
  disputed: number;
  /** Agreement with the adjudicated label: the suite's expectation, or our verdict where disputed. */
  ours: number;
  /** The owner against the same adjudicated labels (its verdict is the suite's, except on `disagrees`). */
  owner: number;
  /** Both against the suite's own expectations, disputes ignored. */
  oursRaw: number;
  ownerRaw: number;
  misses: { id: string; want: Outcome; got: Outcome; reason: string }[];
}

/** Every suite file under `root` (test/conformance), validated; a bad file names itself. */
export function loadSuites(root: string): Suite[] {
  const out: Suite[] = [];
  for (const domain of readdirSync(root, { withFileTypes: true })) {
    if (!domain.isDirectory()) continue;
    for (const f of readdirSync(join(root, domain.name)).sort()) {
      if (!f.endsWith(".json")) continue;
      const file = join(root, domain.name, f);
      const parsed = Suite.safeParse(JSON.parse(readFileSync(file, "utf8")));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      const s = parsed.data;
      if (s.domain !== domain.name)
        throw new Error(`${file}: domain ${s.domain} is not its folder ${domain.name}`);
      const ids = new Set(s.cases.map((c) => c.id));
      if (ids.size !== s.cases.length) throw new Error(`${file}: duplicate case ids`);
      for (const id of s.owner.disagrees ?? []) {
        if (!ids.has(id)) throw new Error(`${file}: owner.disagrees names unknown case ${id}`);
      }
      out.push(s);
    }
  }
  return out;
}

/** A reward as one of the outcomes: score 1 is correct; an error stays an error (it judges nothing). */
function outcomeOf(verdict: string, score: number): Outcome {
  if (score >= 1) return "correct";
  return verdict === "error" ? "error" : "incorrect";
}

const flip = (o: "correct" | "incorrect"): Outcome => (o === "correct" ? "incorrect" : "correct");
const same = (want: Outcome, got: Outcome) => want === got || (want === "invalid" && got === "incorrect");

export async function scoreSuite(s: Suite, registry: VerifierRegistry): Promise<SuiteScore> {
  // An owner that passes its whole suite disagrees nowhere; otherwise only a list of its
  // disagreements lets the owner be scored against the adjudicated labels.
  const disagrees = s.owner.disagrees ?? (s.owner.agreement === 1 ? [] : undefined);
  const ownerOff = new Set(disagrees ?? []);
  let ours = 0;
  let owner = 0;
  let oursRaw = 0;
  const misses: SuiteScore["misses"] = [];
  for (const c of s.cases) {
    const v = await registry.get(c.rollout.domain);
    if (v === undefined) throw new Error(`${s.suite} ${c.id}: no verifier for domain ${c.rollout.domain}`);
    const r = await v.verify({ ...c.rollout, id: c.id });
    const got = outcomeOf(r.verdict, r.score);
    const want = c.disputed?.ours ?? c.expect;
    const ownerGot = ownerOff.has(c.id) ? flip(c.expect) : c.expect;
    if (same(want, got)) ours++;
    else
      misses.push({ id: c.id, want, got, reason: String(r.details?.["reason"] ?? r.error?.message ?? "") });
    if (same(want, ownerGot)) owner++;
    if (got === c.expect) oursRaw++;
  }
  const n = s.cases.length;
  const frac = (k: number) => Math.round((k / n) * 10000) / 10000;
  return {
    suite: s.suite,
    domain: s.domain,
    cases: n,
    disputed: s.cases.filter((c) => c.disputed !== undefined).length,
    ours: frac(ours),
    owner: disagrees !== undefined ? frac(owner) : s.owner.agreement,
    oursRaw: frac(oursRaw),
    ownerRaw: s.owner.agreement,
    misses,
  };
}

/** Agreement over the union of a domain's cases (each case weighs the same). */
export function unionOf(scores: readonly SuiteScore[]): Record<string, number> {
  const by = new Map<string, { n: number; ok: number }>();
  for (const s of scores) {
    const t = by.get(s.domain) ?? { n: 0, ok: 0 };
    t.n += s.cases;
    t.ok += Math.round(s.ours * s.cases);
    by.set(s.domain, t);
  }
  return Object.fromEntries([...by].map(([d, t]) => [d, Math.round((t.ok / t.n) * 10000) / 10000]));
}
