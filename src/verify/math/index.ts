// The math verifier (RTV: math): extract the final answer from a response, parse gold and
// answer into ASTs, decide equivalence. Synchronous and bounded: every call returns within
// its time budget with a Reward, whatever the input.

import { errorReward, invalidReward } from "../../core/rewards.ts";
import type { Reward, Rollout } from "../../core/schemas.ts";
import type { Verifier, VerifyOptions } from "../types.ts";
import { type Node, show } from "./ast.ts";
import { Budget, DEFAULT_LIMITS, MathBudgetError, MathLimitError, type MathLimits } from "./budget.ts";
import { DEFAULT_EQUIVALENCE, type EquivalenceOptions, equivalent } from "./equivalence.ts";
import {
  DEFAULT_STRATEGIES,
  type ExtractionOptions,
  type ExtractionStrategy,
  extractCandidates,
  gsm8kAnswer,
  lastBoxedAnswer,
} from "./extract.ts";
import { normalizeAnswer, wordNumber } from "./normalize.ts";
import { ParseError, parseMath } from "./parse.ts";

export { DEFAULT_STRATEGIES, type ExtractionStrategy } from "./extract.ts";

export const SOURCE = "rtv:math";

export interface MathVerifierOptions {
  /** Default per-call budget when the caller gives none (ms). */
  timeBudgetMs?: number;
  /** Extraction strategies in priority order. */
  strategies?: readonly ExtractionStrategy[];
  /** Which \boxed{} counts when there are several. */
  boxed?: "last" | "first";
  limits?: Partial<MathLimits>;
  equivalence?: Partial<EquivalenceOptions>;
}

type Parsed = { ok: true; node: Node; text: string } | { ok: false; reason: string; limit: boolean };

/** Plain words (yes, no, "none of these") that are answers in their own right. */
const WORDY = /^[A-Za-z][A-Za-z' -]*[A-Za-z]$/;
const MATH_WORDS = /^(?:sin|cos|tan|sec|csc|cot|ln|log|exp|sqrt|pi|inf|infinity|arcsin|arccos|arctan)$/i;

function parseAnswer(raw: string, budget: Budget): Parsed {
  // Refuse before normalising: the clean-up regexes are linear but not free on huge inputs.
  if (raw.length > 2 * budget.limits.maxAnswerLength) {
    return {
      ok: false,
      reason: `answer longer than ${budget.limits.maxAnswerLength} characters`,
      limit: true,
    };
  }
  const text = wordNumber(normalizeAnswer(raw));
  if (text === "") return { ok: false, reason: "empty answer", limit: false };
  if (
    WORDY.test(text) &&
    text.length >= 3 &&
    !text.split(/\s+/).every((w) => w.length === 1 || MATH_WORDS.test(w))
  ) {
    return { ok: true, node: { k: "text", s: text.toLowerCase().replace(/\s+/g, " ") }, text };
  }
  try {
    return { ok: true, node: parseMath(text, budget), text };
  } catch (e) {
    if (e instanceof ParseError) {
      // "\lim_{x \to 0} \frac{\sin x}{x} = 1", "17 \bmod 5 = 2": a chain we cannot read on the
      // left still states its value on the right.
      const rhs = finalValue(text);
      if (rhs !== undefined) {
        try {
          return { ok: true, node: parseMath(rhs, budget), text: rhs };
        } catch (e2) {
          if (!(e2 instanceof ParseError)) throw e2;
        }
      }
      return {
        ok: false,
        reason: `cannot parse ${JSON.stringify(text.slice(0, 80))}: ${e.message}`,
        limit: false,
      };
    }
    if (e instanceof MathLimitError) return { ok: false, reason: e.message, limit: true };
    if (e instanceof RangeError) return { ok: false, reason: e.message, limit: true };
    throw e;
  }
}

/** What follows the last top-level "=" of a chain, when it is a short value (no relation, no list). */
function finalValue(text: string): string | undefined {
  let depth = 0;
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "(" || c === "[") depth++;
    else if (c === "}" || c === ")" || c === "]") depth--;
    else if (c === "=" && depth === 0) at = i;
  }
  const rhs = at < 0 ? "" : text.slice(at + 1).trim();
  return rhs !== "" && rhs.length <= 200 && !/[<>,;]|\\[lg]eq?\b/.test(rhs) ? rhs : undefined;
}

/**
 * "1,22" for 1.22: a decimal comma, read only where it cannot be a thousands separator (not
 * three digits after it, or a zero before it) and only against a single-number answer, since a
 * bare "1,2" is far more often the list 1, 2.
 */
function decimalComma(text: string): string | undefined {
  const m = /^(-?\d+),(\d+)$/.exec(text.replace(/\s*\\?\$\s*$/, "").trim());
  if (m === null || (m[2]!.length === 3 && m[1] !== "0" && m[1] !== "-0")) return undefined;
  return `${m[1]}.${m[2]}`;
}

const isNumber = (n: Node): boolean => n.k === "num" || (n.k === "neg" && n.a.k === "num");

/** The gold as written in a dataset: maybe boxed, maybe in $…$. */
function goldText(answer: string | number): string {
  const s = String(answer);
  // A GSM8K gold is its worked solution ending in "#### 72".
  const gsm8k = s.includes("####") ? gsm8kAnswer(s) : undefined;
  if (gsm8k !== undefined) return gsm8k;
  // Several boxes in a gold are the parts of one answer, unless words in between separate an
  // earlier answer from the final one ("\boxed{1} no, rather \boxed{2}").
  return lastBoxedAnswer(s) ?? s;
}

function withDecimalComma(
  gold: Extract<Parsed, { ok: true }>,
  pred: Extract<Parsed, { ok: true }>,
  budget: Budget,
  eqOpts: EquivalenceOptions,
): { equal: boolean; strategy: string } | undefined {
  const g = isNumber(pred.node) ? decimalComma(gold.text) : undefined;
  const p = isNumber(gold.node) ? decimalComma(pred.text) : undefined;
  if (g === undefined && p === undefined) return undefined;
  const gn = g === undefined ? gold.node : parseMath(g, budget);
  const pn = p === undefined ? pred.node : parseMath(p, budget);
  const d = equivalent(gn, pn, budget, eqOpts);
  return d.equal ? { equal: true, strategy: "decimal-comma" } : undefined;
}

/**
 * The reference answer parsed; a gold written as a worked solution that does not parse as a
 * whole has its answer extracted as a response's would be.
 */
function parseGold(
  answer: string | number,
  extraction: ExtractionOptions,
  maxResponseLength: number,
  budget: Budget,
): Parsed {
  const gold = parseAnswer(goldText(answer), budget);
  if (gold.ok || gold.limit) return gold;
  const inner = extractCandidates(String(answer), extraction, maxResponseLength, budget)[0];
  if (inner === undefined) return gold;
  const again = parseAnswer(inner.text, budget);
  return again.ok ? again : gold;
}

export function createMathVerifier(options: MathVerifierOptions = {}): Verifier {
  const limits: MathLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const eqOpts: EquivalenceOptions = { ...DEFAULT_EQUIVALENCE, ...options.equivalence };
  const extraction: ExtractionOptions = {
    strategies: options.strategies ?? DEFAULT_STRATEGIES,
    boxed: options.boxed ?? "last",
  };
  const defaultBudget = options.timeBudgetMs ?? 2000;

  function verify(rollout: Rollout, callOptions?: VerifyOptions): Reward {
    const { id } = rollout;
    const budgetMs = callOptions?.timeBudgetMs ?? defaultBudget;
    const budget = new Budget(budgetMs, limits);
    const answer = rollout.reference?.answer;
    if (answer === undefined)
      return errorReward(id, SOURCE, "no_reference", "math rollout has no reference.answer");
    try {
      const gold = parseGold(answer, extraction, limits.maxResponseLength, budget);
      if (!gold.ok) {
        return errorReward(id, SOURCE, "gold_unparseable", `reference.answer: ${gold.reason}`);
      }
      const candidates = extractCandidates(rollout.response, extraction, limits.maxResponseLength, budget);
      if (candidates.length === 0) {
        return invalidReward(id, SOURCE, "no answer found in the response", { gold: gold.text });
      }
      const failures: string[] = [];
      for (const cand of candidates) {
        budget.check();
        const pred = parseAnswer(cand.text, budget);
        if (!pred.ok) {
          failures.push(`${cand.strategy}: ${pred.reason}`);
          if (pred.limit) break; // a hostile answer does not get a second chance elsewhere
          continue;
        }
        let decision =
          gold.text === pred.text
            ? { equal: true, strategy: "string" }
            : equivalent(gold.node, pred.node, budget, eqOpts);
        if (!decision.equal) decision = withDecimalComma(gold, pred, budget, eqOpts) ?? decision;
        const details = {
          extracted: cand.text,
          extraction: cand.strategy,
          gold: gold.text,
          parsed: show(pred.node),
          parsedGold: show(gold.node),
          strategy: decision.strategy,
          reason: decision.equal
            ? `equivalent (${decision.strategy})`
            : `not equivalent (${decision.strategy})`,
        };
        return {
          id,
          score: decision.equal ? 1 : 0,
          verdict: decision.equal ? "correct" : "incorrect",
          source: SOURCE,
          details,
        };
      }
      return invalidReward(id, SOURCE, `no parseable answer: ${failures.join("; ")}`, {
        gold: gold.text,
        extracted: candidates[0]?.text.slice(0, 200),
      });
    } catch (e) {
      if (e instanceof MathBudgetError) {
        return errorReward(
          id,
          SOURCE,
          "time_budget",
          `math verification exceeded its ${budgetMs} ms time budget`,
        );
      }
      if (e instanceof MathLimitError) return invalidReward(id, SOURCE, e.message);
      return errorReward(id, SOURCE, "internal", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }

  return { domain: "math", source: SOURCE, verify };
}
