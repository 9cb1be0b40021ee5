// `npm run conformance:code -- --humaneval FILE --mbpp FILE [--mbpp FILE2] [--no-challenge]
//   [--limit N] [--concurrency N] [--no-mutants]`
// HumanEval's and MBPP's canonical solutions through the code verifier in each set's own style
// (all must pass), and the same solutions with one mutation each (which must fail). Prints per
// set the pass rates, every canonical that fails (with the reason) and every mutant that
// survives, then one JSON line. The data files are fetched at run time, never committed
// (docs/sandbox.md, "HumanEval and MBPP").
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import type { Reward } from "../../src/core/schemas.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { CodeVerifier } from "../../src/verify/code/verifier.ts";
import {
  type Loaded,
  loadHumanEval,
  loadMbpp,
  MUTATION_KINDS,
  type Mutant,
  mutants,
  type Problem,
  rolloutOf,
} from "./code-sets.ts";

export interface SetReport {
  set: string;
  file: string;
  problems: number;
  bad: string[];
  canonical: { passed: number; rate: number; failures: { id: string; why: string }[] };
  mutated: Record<string, { mutants: number; passed: number; rate: number; survivors: string[] }>;
  /** Problems whose canonical passes and for which at least one mutant exists / every mutant passed. */
  distinguished: { problems: number; allSurvive: string[] };
  /** Every program run and our verdict, for comparing with a set's own harness (--write). */
  verdicts: { id: string; task_id: string; kind: string; solution: string; verdict: string }[];
}

/** Why a reward is not `correct`, in one line. */
export function why(r: Reward): string {
  if (r.error !== undefined) return `${r.verdict} ${r.error.code}: ${r.error.message.slice(0, 300)}`;
  const d = r.details ?? {};
  const err = typeof d.stderr === "string" ? d.stderr.trim().split("\n").slice(-1)[0] : "";
  const reason = typeof d.reason === "string" ? d.reason : "";
  return `${r.verdict} ${JSON.stringify(d.tests ?? [])} ${reason}${err}`.trim();
}

/** Runs `jobs` with at most `n` in flight, reporting progress every 100. */
async function pool<T, R>(jobs: T[], n: number, run: (j: T) => Promise<R>, label: string): Promise<R[]> {
  const out: R[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await run(jobs[i] as T);
      if (++done % 100 === 0 || done === jobs.length)
        process.stderr.write(`${label}: ${done}/${jobs.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  return out;
}

export async function runSet(
  name: string,
  file: string,
  loaded: Loaded,
  verifier: CodeVerifier,
  options: { concurrency: number; mutate: boolean },
): Promise<SetReport> {
  const { problems, bad } = loaded;
  const verify = (p: Problem, solution?: string, suffix?: string) =>
    Promise.resolve(verifier.verify(rolloutOf(p, solution, suffix), { timeBudgetMs: 60_000 }));
  const canon = await pool(problems, options.concurrency, (p) => verify(p), `${name} canonical`);
  const failures = canon.flatMap((r, i) =>
    r.verdict === "correct" ? [] : [{ id: (problems[i] as Problem).id, why: why(r) }],
  );
  const passed = problems.length - failures.length;
  const report: SetReport = {
    set: name,
    file,
    problems: problems.length,
    bad,
    canonical: { passed, rate: problems.length === 0 ? 0 : passed / problems.length, failures },
    mutated: {},
    distinguished: { problems: 0, allSurvive: [] },
    verdicts: problems.map((p, i) => ({
      id: p.id,
      task_id: p.taskId,
      kind: "canonical",
      solution: p.solution,
      verdict: canon[i]?.verdict ?? "missing",
    })),
  };
  if (!options.mutate) return report;
  // Mutants of canonicals that pass: a mutant of a failing canonical says nothing.
  const good = new Set(problems.filter((_, i) => canon[i]?.verdict === "correct"));
  const list = mutants(problems.filter((p) => good.has(p)));
  const results = await pool(
    list,
    options.concurrency,
    (m: Mutant) => verify(m.problem, m.solution, `~${m.kind}`),
    `${name} mutants`,
  );
  for (const kind of MUTATION_KINDS) {
    const idx = list.flatMap((m, i) => (m.kind === kind ? [i] : []));
    const survivors = idx
      .filter((i) => results[i]?.verdict === "correct")
      .map((i) => `${(list[i] as Mutant).problem.id} (${(list[i] as Mutant).change})`);
    // A mutant whose run failed for infrastructure reasons is neither killed nor survived.
    const errors = idx.filter((i) => results[i]?.verdict === "error").length;
    if (errors > 0) survivors.push(`${errors} mutants ended in error`);
    const n = idx.length;
    const p = idx.filter((i) => results[i]?.verdict === "correct").length;
    report.mutated[kind] = { mutants: n, passed: p, rate: n === 0 ? 0 : p / n, survivors };
  }
  const killed = new Set<Problem>();
  const mutatedProblems = new Set<Problem>();
  for (const [i, m] of list.entries()) {
    mutatedProblems.add(m.problem);
    if (results[i]?.verdict !== "correct") killed.add(m.problem);
    report.verdicts.push({
      id: `${m.problem.id}~${m.kind}`,
      task_id: m.problem.taskId,
      kind: m.kind,
      solution: m.solution,
      verdict: results[i]?.verdict ?? "missing",
    });
  }
  const allSurvive = [...mutatedProblems].filter((p) => !killed.has(p)).map((p) => p.id);
  report.distinguished = { problems: mutatedProblems.size, allSurvive };
  return report;
}

function print(r: SetReport): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`\n## ${r.set} (${r.file})`);
  for (const b of r.bad) console.log(`BAD ${b}`);
  console.log(`canonical: ${r.canonical.passed}/${r.problems} pass (${pct(r.canonical.rate)})`);
  for (const f of r.canonical.failures) console.log(`  FAIL ${f.id}: ${f.why}`);
  for (const [kind, m] of Object.entries(r.mutated)) {
    console.log(`mutated (${kind}): ${m.passed}/${m.mutants} pass (${pct(m.rate)})`);
    for (const s of m.survivors) console.log(`  SURVIVES ${s}`);
  }
  const d = r.distinguished;
  if (d.problems > 0) {
    const k = d.problems - d.allSurvive.length;
    console.log(`problems with a failing mutant: ${k}/${d.problems} (${pct(k / d.problems)})`);
    if (d.allSurvive.length > 0) console.log(`  every mutant passes: ${d.allSurvive.join(", ")}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      humaneval: { type: "string", multiple: true, default: [] },
      mbpp: { type: "string", multiple: true, default: [] },
      "no-challenge": { type: "boolean", default: false },
      "no-mutants": { type: "boolean", default: false },
      limit: { type: "string" },
      concurrency: { type: "string", default: "4" },
      write: { type: "string" },
    },
  });
  if (values.humaneval.length + values.mbpp.length === 0) {
    console.error("usage: npm run conformance:code -- --humaneval HumanEval.jsonl.gz --mbpp mbpp.jsonl");
    process.exit(2);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const concurrency = Number(values.concurrency);
  const cut = (l: Loaded): Loaded => ({ ...l, problems: l.problems.slice(0, limit) });
  const sets: [string, string, Loaded][] = [
    ...values.humaneval.map((f): [string, string, Loaded] => ["humaneval", f, cut(loadHumanEval(f))]),
    ...values.mbpp.map((f): [string, string, Loaded] => [
      `mbpp:${basename(f)}`,
      f,
      cut(loadMbpp(f, { challenge: !values["no-challenge"] })),
    ]),
  ];
  const sandbox = new Sandbox({ concurrency, warm: Math.min(concurrency, 2) });
  const verifier = new CodeVerifier({ sandbox });
  const reports: SetReport[] = [];
  try {
    for (const [name, file, loaded] of sets)
      reports.push(
        await runSet(name, file, loaded, verifier, { concurrency, mutate: !values["no-mutants"] }),
      );
  } finally {
    await sandbox.close();
  }
  for (const r of reports) print(r);
  if (values.write !== undefined) {
    mkdirSync(values.write, { recursive: true });
    for (const r of reports) {
      const out = join(values.write, `${r.set.replace(/[^\w.-]+/g, "_")}.verdicts.jsonl`);
      writeFileSync(out, r.verdicts.map((v) => JSON.stringify(v)).join("\n") + "\n");
      console.error(`wrote ${out}`);
    }
  }
  console.log(
    JSON.stringify({
      bench: "conformance-code",
      sets: reports.map((r) => ({
        set: r.set,
        problems: r.problems,
        canonical: r.canonical.rate,
        canonical_failures: r.canonical.failures.map((f) => f.id),
        mutated: Object.fromEntries(
          Object.entries(r.mutated).map(([k, m]) => [k, { mutants: m.mutants, rate: m.rate }]),
        ),
        distinguished:
          r.distinguished.problems === 0
            ? null
            : 1 - r.distinguished.allSurvive.length / r.distinguished.problems,
      })),
    }),
  );
}

if (import.meta.main) await main();
