// verl's data sources: the `data_source` names verl's `default_compute_score`
// (verl/utils/reward_score/__init__.py, verl-project/verl 1dda039) knows, each mapped to our
// domain, and their `reward_model.ground_truth` shapes mapped to a Task reference. A name we
// do not know, or a ground truth we cannot read, is a permanent error naming the field —
// retrying cannot fix data.
import type { Reference } from "../core/schemas.ts";

export type SourceKind = "math" | "code" | "qa";

interface SourceEntry {
  kind: SourceKind;
  names: readonly string[];
  /** Names starting with this also belong (verl: `data_source.startswith("aime")`). */
  prefix?: string;
}

export const VERL_DATA_SOURCES: readonly SourceEntry[] = [
  { kind: "math", names: ["openai/gsm8k"] },
  { kind: "math", names: ["lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500"] },
  { kind: "math", names: ["math_dapo", "math", "math_dapo_reasoning"], prefix: "aime" },
  {
    kind: "math",
    names: [
      "numina_aops_forum",
      "numina_synthetic_math",
      "numina_amc_aime",
      "numina_synthetic_amc",
      "numina_cn_k12",
      "numina_olympiads",
    ],
  },
  // verl's code sources, plus PRIME/Eurus's `primeintellect` and `livecodebench` rows that
  // carry the same {"inputs","outputs"} ground truth.
  { kind: "code", names: ["codecontests", "apps", "codeforces", "taco", "primeintellect", "livecodebench"] },
  { kind: "math", names: ["hiyouga/geometry3k"] },
  {
    kind: "qa",
    names: [
      "searchR1_nq",
      "searchR1_triviaqa",
      "searchR1_popqa",
      "searchR1_hotpotqa",
      "searchR1_2wikimultihopqa",
      "searchR1_musique",
      "searchR1_bamboogle",
    ],
  },
];

/** Every listed name (without the prefix families), for routes and messages. */
export const VERL_SOURCE_NAMES: readonly string[] = VERL_DATA_SOURCES.flatMap((e) => e.names);

export function verlSourceKind(dataSource: string): SourceKind | undefined {
  const entry = VERL_DATA_SOURCES.find(
    (e) => e.names.includes(dataSource) || (e.prefix !== undefined && dataSource.startsWith(e.prefix)),
  );
  return entry?.kind;
}

export type Mapped = { ok: true; reference: Reference } | { ok: false; field: string; message: string };

const fail = (field: string, message: string): Mapped => ({ ok: false, field, message });

function shape(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** A JSON string holding an object or a list is read as that value; anything else stays. */
function maybeJson(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const t = v.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
}

/**
 * A math ground truth: a string or number answer (a GSM8K worked solution ending in
 * `#### 72` is read by the math verifier from its `####` line); a one-element list gives its
 * element.
 */
export function mathReference(gt: unknown, field = "ground_truth"): Mapped {
  let v = gt;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (typeof v === "number" && Number.isFinite(v)) return { ok: true, reference: { answer: v } };
  if (typeof v !== "string") return fail(field, `expected a string answer, got ${shape(gt)}`);
  let answer = v.trim();
  const hashes = answer.lastIndexOf("####");
  if (hashes !== -1)
    answer = answer
      .slice(hashes + 4)
      .trim()
      .replace(/,/g, "");
  if (answer === "") return fail(field, "the answer is empty");
  return { ok: true, reference: { answer } };
}

function stdioText(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join("\n");
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Code tests as verl's code sources carry them: `{"inputs", "outputs"[, "fn_name"]}` or
 * `{"assert_case": [...]}`, as an object or a JSON string. Scored as the fraction of tests
 * passed, as verl's `default_compute_score` does (continuous=True) for these sources.
 */
export function codeReference(gt: unknown, field = "ground_truth"): Mapped {
  const v = maybeJson(gt);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    const what = typeof v === "string" ? "a string that is not a JSON object" : shape(v);
    return fail(
      field,
      `expected code tests {"inputs", "outputs"[, "fn_name"]} (or a JSON string of them), got ${what}`,
    );
  }
  const o = v as Record<string, unknown>;
  const base = { language: "python", scoring: "fraction" } as const;
  if (Array.isArray(o["assert_case"])) {
    const cases = o["assert_case"] as unknown[];
    if (cases.length === 0 || !cases.every((c) => typeof c === "string")) {
      return fail(`${field}.assert_case`, "expected a non-empty list of assertion strings");
    }
    return {
      ok: true,
      reference: { ...base, style: "assert", tests: cases.map((code) => ({ code: code as string })) },
    };
  }
  const { inputs, outputs } = o;
  if (!Array.isArray(inputs)) return fail(`${field}.inputs`, `expected a list, got ${shape(inputs)}`);
  if (!Array.isArray(outputs)) return fail(`${field}.outputs`, `expected a list, got ${shape(outputs)}`);
  if (inputs.length === 0) return fail(`${field}.inputs`, "no tests");
  if (inputs.length !== outputs.length) {
    return fail(`${field}.outputs`, `${outputs.length} outputs for ${inputs.length} inputs`);
  }
  const fnName = o["fn_name"];
  if (typeof fnName === "string" && fnName !== "") {
    // Call-style tests: the code verifier reads inputs (argument lists) and outputs itself.
    return {
      ok: true,
      reference: { ...base, style: "call", inputs, outputs, fn_name: fnName, entry: fnName },
    };
  }
  const tests = inputs.map((input, i) => ({ input: stdioText(input), output: stdioText(outputs[i]) }));
  return { ok: true, reference: { ...base, style: "stdio", tests } };
}

/** Short-answer golds: `{"target": [...]}` (Search-R1), a list, or one string. */
export function qaReference(gt: unknown, field = "ground_truth"): Mapped {
  let v = maybeJson(gt);
  let at = field;
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    v = (v as Record<string, unknown>)["target"];
    at = `${field}.target`;
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) return fail(at, "no gold answers");
  if (!list.every((a) => typeof a === "string" || typeof a === "number")) {
    return fail(at, `expected a string or a list of strings, got ${shape(v)}`);
  }
  const answers = list.map(String);
  return { ok: true, reference: { answer: answers[0] as string, answers } };
}

export function referenceFor(kind: SourceKind, gt: unknown, field = "ground_truth"): Mapped {
  if (kind === "code") return codeReference(gt, field);
  if (kind === "qa") return qaReference(gt, field);
  return mathReference(gt, field);
}
