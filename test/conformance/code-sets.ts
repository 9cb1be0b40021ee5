// HumanEval and MBPP as code-verifier rollouts, in the style each set is run by its own
// harness, and one-mutation variants of their canonical solutions (issue 12, item 4).
//
// HumanEval (openai/human-eval, human_eval/execution.py): the program is prompt + completion,
// then the problem's `test` (which defines `check(candidate)`), then `check(entry_point)`.
// MBPP (google-research/google-research mbpp/, and the sanitized set): the solution, then
// `test_setup_code` (sanitized: `test_imports`) and each assertion of `test_list`, plus
// `challenge_test_list` when present. The data files are fetched at run time, never committed.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import type { Rollout } from "../../src/core/schemas.ts";

export const HumanEvalRow = z.looseObject({
  task_id: z.string(),
  prompt: z.string(),
  canonical_solution: z.string(),
  test: z.string(),
  entry_point: z.string(),
});
/** mbpp.jsonl rows (`text`, `test_setup_code`, `challenge_test_list`) and sanitized rows (`prompt`, `test_imports`). */
export const MbppRow = z.looseObject({
  task_id: z.number().int(),
  code: z.string(),
  test_list: z.array(z.string()).min(1),
  test_setup_code: z.string().optional(),
  test_imports: z.array(z.string()).optional(),
  challenge_test_list: z.array(z.string()).optional(),
});

export type SetName = "humaneval" | "mbpp";

/** One problem: the program our harness runs is `before + solution` with `tests`. */
export interface Problem {
  set: SetName;
  id: string;
  /** The set's own id (HumanEval's task_id string, MBPP's task_id number as text). */
  taskId: string;
  /** Text before the solution in the response (HumanEval's prompt); never mutated. */
  before: string;
  solution: string;
  reference: Record<string, unknown>;
}

export interface Loaded {
  problems: Problem[];
  /** Lines that are not a valid row, with why (reported, never silently dropped). */
  bad: string[];
}

function readRows(file: string): { rows: unknown[]; bad: string[] } {
  const raw = readFileSync(file);
  const text = (file.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
  const trimmed = text.trimStart();
  // The sanitized MBPP set is one JSON array; the others are JSON lines.
  if (trimmed.startsWith("[")) return { rows: JSON.parse(trimmed) as unknown[], bad: [] };
  const rows: unknown[] = [];
  const bad: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    try {
      rows.push(JSON.parse(line));
    } catch (e) {
      bad.push(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  }
  return { rows, bad };
}

function load<T>(file: string, schema: z.ZodType<T>, build: (row: T) => Problem): Loaded {
  const { rows, bad } = readRows(file);
  const problems: Problem[] = [];
  for (const [i, row] of rows.entries()) {
    const parsed = schema.safeParse(row);
    if (parsed.success) problems.push(build(parsed.data));
    else
      bad.push(
        `${file}: record ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`,
      );
  }
  return { problems, bad };
}

export function loadHumanEval(file: string): Loaded {
  return load(file, HumanEvalRow, (r) => ({
    set: "humaneval",
    id: r.task_id,
    taskId: r.task_id,
    before: r.prompt,
    solution: r.canonical_solution,
    reference: { language: "python", style: "assert", entry: r.entry_point, tests: [{ code: r.test }] },
  }));
}

export function loadMbpp(file: string, options: { challenge?: boolean } = {}): Loaded {
  return load(file, MbppRow, (r) => {
    const setup = r.test_setup_code ?? (r.test_imports ?? []).join("\n");
    const asserts = [...r.test_list, ...(options.challenge === false ? [] : (r.challenge_test_list ?? []))];
    return {
      set: "mbpp",
      id: `mbpp/${r.task_id}`,
      taskId: String(r.task_id),
      before: "",
      solution: r.code,
      reference: {
        language: "python",
        style: "assert",
        tests: asserts.map((a) => ({ code: `${setup}\n${a}` })),
      },
    };
  });
}

/** A fence longer than any backtick run in the program, so the program cannot close it. */
export function fenced(program: string): string {
  let longest = 0;
  for (const m of program.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}python\n${program}\n${fence}\n`;
}

export function rolloutOf(p: Problem, solution: string = p.solution, suffix = ""): Rollout {
  return {
    id: `${p.id}${suffix}`,
    domain: "code",
    reference: p.reference,
    response: fenced(p.before + solution),
  };
}

// --- mutations ------------------------------------------------------------------------------
// Text-level, outside strings and comments, at the first (or, for returns, last) site of each
// kind; a mutant counts only if Python parses it to a different AST than the original.

export type MutationKind = "boundary" | "constant" | "return";
export const MUTATION_KINDS: readonly MutationKind[] = ["boundary", "constant", "return"];

interface Site {
  at: number;
  length: number;
  replacement: string;
}

/** Offsets of source text that is code (not inside a string literal or a comment). */
function codeMask(src: string): Uint8Array {
  const mask = new Uint8Array(src.length);
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === '"' || c === "'") {
      const triple = src.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      i += close.length;
      while (i < src.length && !src.startsWith(close, i)) {
        if (!triple && src[i] === "\n") break;
        i += src[i] === "\\" ? 2 : 1;
      }
      i += close.length;
    } else {
      mask[i] = 1;
      i++;
    }
  }
  return mask;
}

const IDENT = /[A-Za-z0-9_.]/;

function sites(src: string, kind: MutationKind): Site[] {
  const mask = codeMask(src);
  const out: Site[] = [];
  const isCode = (k: number, n: number) => {
    for (let j = k; j < k + n; j++) if (mask[j] !== 1) return false;
    return true;
  };
  if (kind === "boundary") {
    // Strict <-> non-strict comparison; not <<, >>, ->, <<=, >>=, <>.
    for (const m of src.matchAll(/(?<![<>=!-])(<=|>=|<|>)(?![<>=])/g)) {
      const op = m[1] as string;
      if (!isCode(m.index, op.length)) continue;
      const flipped = op.length === 2 ? (op[0] as string) : `${op}=`;
      out.push({ at: m.index, length: op.length, replacement: flipped });
    }
  } else if (kind === "constant") {
    for (const m of src.matchAll(/\d+/g)) {
      const before = src[m.index - 1] ?? " ";
      const after = src[m.index + m[0].length] ?? " ";
      if (IDENT.test(before) || /[A-Za-z_.]/.test(after) || !isCode(m.index, m[0].length)) continue;
      out.push({ at: m.index, length: m[0].length, replacement: String(BigInt(m[0]) + 1n) });
    }
  } else {
    for (const m of src.matchAll(/(?<![A-Za-z0-9_])return[ \t]+(?=[^ \t\r\n#;])(?!not\b)/g)) {
      if (!isCode(m.index, 6)) continue;
      out.push({ at: m.index, length: m[0].length, replacement: `${m[0]}not ` });
    }
    out.reverse(); // the last return (usually the main result) first
  }
  return out;
}

function apply(src: string, s: Site): string {
  return src.slice(0, s.at) + s.replacement + src.slice(s.at + s.length);
}

/** Python's ast.dump of each source (null where it does not parse). Parsing runs no code. */
export function astDumps(sources: readonly string[]): (string | null)[] {
  const script =
    "import ast, json, sys\n" +
    "out = []\n" +
    "for s in json.load(sys.stdin):\n" +
    "    try: out.append(ast.dump(ast.parse(s)))\n" +
    "    except Exception: out.append(None)\n" +
    "json.dump(out, sys.stdout)\n";
  const r = spawnSync("/usr/bin/python3", ["-I", "-c", script], {
    input: JSON.stringify(sources),
    maxBuffer: 1 << 30,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`python3 ast check failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as (string | null)[];
}

export interface Mutant {
  problem: Problem;
  kind: MutationKind;
  solution: string;
  /** What changed, e.g. `line 3: '<' -> '<='`. */
  change: string;
}

/**
 * One mutant per problem and kind where a site exists: the first site (last for returns) whose
 * mutant parses to a different AST, checked against the whole program (prompt included).
 */
export function mutants(problems: readonly Problem[]): Mutant[] {
  const candidates: { p: Problem; kind: MutationKind; list: Site[] }[] = [];
  for (const p of problems)
    for (const kind of MUTATION_KINDS)
      candidates.push({ p, kind, list: sites(p.solution, kind).slice(0, 4) });
  const programs: string[] = [];
  for (const p of problems) programs.push(p.before + p.solution);
  for (const c of candidates) for (const s of c.list) programs.push(c.p.before + apply(c.p.solution, s));
  const dumps = astDumps(programs);
  const original = new Map(problems.map((p, i) => [p, dumps[i]]));
  let k = problems.length;
  const out: Mutant[] = [];
  for (const c of candidates) {
    let chosen: Mutant | undefined;
    for (const s of c.list) {
      const d = dumps[k++];
      if (chosen !== undefined || d === null || d === undefined || d === original.get(c.p)) continue;
      const line = c.p.solution.slice(0, s.at).split("\n").length;
      const was = c.p.solution.slice(s.at, s.at + s.length).trim();
      chosen = {
        problem: c.p,
        kind: c.kind,
        solution: apply(c.p.solution, s),
        change: `line ${line}: '${was}' -> '${s.replacement.trim()}'`,
      };
    }
    if (chosen !== undefined) out.push(chosen);
  }
  return out;
}
