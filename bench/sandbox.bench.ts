// Sandbox throughput on a mixed Python workload, side by side in one run with the naive
// baseline graders use: a fresh bubblewrap + python3 process per test. Both use the same
// namespaces (bwrapArgs), the same uid and the same concurrency (all cores).
// Then, per sandbox language, submissions of a + b (4 tests each) with every source distinct
// (each compiles: the baseline) beside the same source resubmitted (compiled once, then
// served from the compile cache) — what verl's one-request-per-test pattern costs.
// Usage: npm run bench:sandbox [-- --submissions N --tests T --concurrency C --mode zygote|fresh --zygotes Z
//                                  --lang-submissions N (0: skip the per-language part)]
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bwrapArgs } from "../src/sandbox/bwrap.ts";
import { probeIsolation } from "../src/sandbox/isolation.ts";
import { RUNNERS } from "../src/sandbox/runners/index.ts";
import { Sandbox } from "../src/sandbox/sandbox.ts";
import { commentLine, SUM_PROGRAMS } from "./sum-programs.ts";

const { values } = parseArgs({
  options: {
    submissions: { type: "string", default: "48" },
    tests: { type: "string", default: "8" },
    concurrency: { type: "string" },
    "baseline-concurrency": { type: "string" },
    mode: { type: "string" },
    zygotes: { type: "string" },
    "lang-submissions": { type: "string", default: "8" },
  },
});
const SUBMISSIONS = Number(values.submissions);
const TESTS = Number(values.tests);
const CORES = availableParallelism();
// Both sides get the same number of runs in flight: the sandbox's default, 2 × cores.
const CONCURRENCY = Number(values.concurrency ?? 2 * CORES);
const BASELINE_CONCURRENCY = Number(values["baseline-concurrency"] ?? CONCURRENCY);

// Typical competitive-programming shapes: parse, compute a little, print. One in six is
// wrong or crashes, as model outputs are.
const PROGRAMS: { code: string; input: (i: number) => string }[] = [
  { code: "a, b = map(int, input().split())\nprint(a + b)", input: (i) => `${i} ${i * 7}\n` },
  {
    code: "import sys\nn, *xs = map(int, sys.stdin.read().split())\nprint(*sorted(xs))",
    input: (i) => `200 ${Array.from({ length: 200 }, (_, k) => (k * 7919 + i) % 1000).join(" ")}\n`,
  },
  {
    code: "s = input().strip()\nprint(s[::-1], s == s[::-1])",
    input: (i) => `${"abcba".repeat(i + 1)}\n`,
  },
  {
    code: "from functools import lru_cache\nn = int(input())\n@lru_cache(None)\ndef f(k): return k if k < 2 else f(k - 1) + f(k - 2)\nprint(f(n) % 1000000007)",
    input: (i) => `${300 + i * 10}\n`,
  },
  {
    code: "import collections\nwords = input().split()\nc = collections.Counter(words)\nfor w, k in sorted(c.items()): print(w, k)",
    input: (i) => `${"the quick brown fox jumps over the lazy dog ".repeat(i + 2)}\n`,
  },
  { code: "x = int(input())\nprint(10 // (x % 3))", input: (i) => `${i}\n` },
];

interface Measured {
  seconds: number;
  latencies: number[];
  outputs: string[];
}

interface Job {
  code: string;
  stdins: string[];
}

function workload(): Job[] {
  return Array.from({ length: SUBMISSIONS }, (_, s) => {
    const p = PROGRAMS[s % PROGRAMS.length] as (typeof PROGRAMS)[number];
    return { code: p.code, stdins: Array.from({ length: TESTS }, (_, i) => p.input(i + s)) };
  });
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function pooled<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function ours(sandbox: Sandbox, jobs: Job[]): Promise<Measured> {
  const latencies: number[] = [];
  const outputs: string[] = [];
  const t0 = performance.now();
  // Same driver as the baseline: CONCURRENCY submissions in flight. A test's latency is
  // the time from the previous result of its submission (or the submission's start) to its
  // own result: what a test costs once its submission is being served.
  await pooled(jobs, CONCURRENCY, async (job) => {
    let last = performance.now();
    const r = await sandbox.runSubmission(
      {
        language: "python",
        code: job.code,
        tests: job.stdins.map((stdin) => ({ stdin })),
        limits: { timeMs: 5000 },
      },
      {
        onTest: () => {
          const now = performance.now();
          latencies.push(now - last);
          last = now;
          return undefined;
        },
      },
    );
    for (const t of r.tests) outputs.push(t.status === "ok" ? t.stdout : t.status);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, latencies, outputs };
}

async function baseline(jobs: Job[]): Promise<Measured> {
  const report = probeIsolation();
  const dir = mkdtempSync(join(tmpdir(), "datascale-bench-"));
  chmodSync(dir, 0o755);
  const units = jobs.flatMap((job, j) => {
    const file = join(dir, `s${j}.py`);
    writeFileSync(file, job.code, { mode: 0o644 });
    return job.stdins.map((stdin) => ({ file, stdin }));
  });
  const base = bwrapArgs({ readOnly: [], tmpfsBytes: 64 << 20, runtime: report.runtime });
  const latencies: number[] = [];
  const outputs: string[] = [];
  const t0 = performance.now();
  await pooled(units, BASELINE_CONCURRENCY, async (u) => {
    const start = performance.now();
    const out = await new Promise<string>((resolve) => {
      const child = spawn(
        report.bwrap.path ?? "bwrap",
        [...base, "--ro-bind", u.file, "/build/main.py", "/usr/bin/python3", "/build/main.py"],
        {
          env: {},
          ...(report.uid === undefined ? {} : { uid: report.uid, gid: report.gid }),
        },
      );
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        stdout += s;
      });
      child.stderr.resume();
      child.stdin.end(u.stdin);
      child.on("close", (code) => resolve(code === 0 ? stdout : "runtime_error"));
    });
    latencies.push(performance.now() - start);
    outputs.push(out);
  });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { seconds, latencies, outputs };
}

const jobs = workload();
const total = SUBMISSIONS * TESTS;
process.stderr.write(
  `mixed python workload: ${SUBMISSIONS} submissions × ${TESTS} tests, concurrency ${CONCURRENCY} (baseline ${BASELINE_CONCURRENCY}), ${CORES} cores\n`,
);
// The machine is shared, so load drifts during a run: alternate the two sides in rounds
// so both see the same conditions, and add up each side's time.
const ROUNDS = 4;
const MODE = values.mode === "fresh" ? "fresh" : values.mode === "zygote" ? "zygote" : undefined;
const sandbox = new Sandbox({
  concurrency: CONCURRENCY,
  warm: CONCURRENCY,
  ...(MODE ? { mode: MODE } : {}),
  ...(values.zygotes ? { zygotes: Number(values.zygotes) } : {}),
});
await sandbox.runSubmission({ language: "python", code: "print(1)", tests: [{ stdin: "" }] }); // start the pool
const b: Measured = { seconds: 0, latencies: [], outputs: [] };
const o: Measured = { seconds: 0, latencies: [], outputs: [] };
for (let round = 0; round < ROUNDS; round++) {
  const chunk = jobs.filter((_, j) => j % ROUNDS === round);
  for (const [into, side] of [
    [b, () => baseline(chunk)],
    [o, () => ours(sandbox, chunk)],
  ] as const) {
    const m = await side();
    into.seconds += m.seconds;
    into.latencies.push(...m.latencies);
    into.outputs.push(...m.outputs);
  }
}
const languages = await perLanguage(sandbox, Number(values["lang-submissions"]));
await sandbox.close();
const agree = [...o.outputs].sort().join("\u0000") === [...b.outputs].sort().join("\u0000");
const row = (name: string, r: Measured) =>
  `${name.padEnd(34)} ${(total / r.seconds).toFixed(1).padStart(8)} tests/s   p50 ${percentile(r.latencies, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(r.latencies, 99).toFixed(1).padStart(7)} ms`;
process.stderr.write(
  `${row("baseline: fresh bwrap+python3/test", b)}\n${row(`datascale sandbox (${sandbox.mode}, fork/test)`, o)}\n`,
);
const tps = total / o.seconds;
const btps = total / b.seconds;
process.stderr.write(`ratio ${(tps / btps).toFixed(2)}×; outputs identical: ${agree}\n`);
process.stdout.write(
  `${JSON.stringify({
    bench: "sandbox",
    submissions: SUBMISSIONS,
    tests_per_submission: TESTS,
    cores: CORES,
    concurrency: CONCURRENCY,
    mode: sandbox.mode,
    baseline_concurrency: BASELINE_CONCURRENCY,
    tests_per_s: Number(tps.toFixed(1)),
    baseline_tests_per_s: Number(btps.toFixed(1)),
    ratio_vs_baseline: Number((tps / btps).toFixed(2)),
    p50_ms: Number(percentile(o.latencies, 50).toFixed(2)),
    p99_ms: Number(percentile(o.latencies, 99).toFixed(2)),
    baseline_p50_ms: Number(percentile(b.latencies, 50).toFixed(2)),
    baseline_p99_ms: Number(percentile(b.latencies, 99).toFixed(2)),
    outputs_identical: agree,
    languages,
  })}\n`,
);

interface LanguageFigure {
  submissions: number;
  tests_per_submission: number;
  distinct_submissions_per_s: number;
  cached_submissions_per_s: number;
  cache_ratio: number;
  all_correct: boolean;
}

/** Per language: N distinct sources (each compiled) vs the same source N times (cached). */
async function perLanguage(sandbox: Sandbox, n: number): Promise<Record<string, LanguageFigure>> {
  const out: Record<string, LanguageFigure> = {};
  if (n <= 0) return out;
  const tests = [1, 2, 3, 4].map((k) => ({ stdin: `${k} ${k * 10}\n` }));
  const expect = tests.map((_, i) => `${(i + 1) * 11}`);
  const nonce = Date.now();
  for (const runner of RUNNERS) {
    const program = SUM_PROGRAMS[runner.language];
    if (program === undefined) continue;
    let correct = true;
    const source = (same: boolean, i: number): string => {
      const tag = same ? `${nonce}-same` : `${nonce}-${i}`;
      // Go's first line must stay the package clause.
      return runner.language === "go"
        ? program.replace("\n", `\n${commentLine("go", tag)}`)
        : commentLine(runner.language, tag) + program;
    };
    const side = async (distinct: boolean): Promise<number> => {
      // The same-source side starts after its one compile (a resubmission's steady state).
      if (!distinct) await sandbox.runSubmission({ language: runner.language, code: source(true, 0), tests });
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const code = source(!distinct, i);
          const r = await sandbox.runSubmission({ language: runner.language, code, tests });
          correct &&=
            r.tests.length === tests.length && r.tests.every((t, k) => t.stdout.trim() === expect[k]);
        }),
      );
      return n / ((performance.now() - t0) / 1000);
    };
    const cold = await side(true);
    const warm = await side(false);
    out[runner.language] = {
      submissions: n,
      tests_per_submission: tests.length,
      distinct_submissions_per_s: Number(cold.toFixed(2)),
      cached_submissions_per_s: Number(warm.toFixed(2)),
      cache_ratio: Number((warm / cold).toFixed(2)),
      all_correct: correct,
    };
    process.stderr.write(
      `${runner.language.padEnd(11)} distinct ${cold.toFixed(1).padStart(7)} subm/s   same source ${warm.toFixed(1).padStart(7)} subm/s   ×${(warm / cold).toFixed(2)}   correct ${correct}\n`,
    );
  }
  return out;
}
