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
  boxedContents,
  DEFAULT_STRATEGIES,
  type ExtractionStrategy,
  extractCandidates,
  gsm8kAnswer,
} from "./extract.ts";
import { normalizeAnswer } from "./normalize.ts";
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
  const text = normalizeAnswer(raw);
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
    if (e instanceof ParseError)
      return {
        ok: false,
        reason: `cannot parse ${JSON.stringify(text.slice(0, 80))}: ${e.message}`,
        limit: false,
      };
    if (e instanceof MathLimitError) return { ok: false, reason: e.message, limit: true };
    if (e instanceof RangeError) return { ok: false, reason: e.message, limit: true };
    throw e;
  }
}

/** The gold as written in a dataset: maybe boxed, maybe in $…$. */
function goldText(answer: string | number): string {
  const s = String(answer);
  // A GSM8K gold is its worked solution ending in "#### 72".
  const gsm8k = s.includes("####") ? gsm8kAnswer(s) : undefined;
  if (gsm8k !== undefined) return gsm8k;
  const boxes = boxedContents(s);
  // Several boxes in a gold are the parts of one answer.
  return boxes.length > 0 ? boxes.join(", ") : s;
}

export function createMathVerifier(options: MathVerifierOptions = {}): Verifier {
  const limits: MathLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const eqOpts: EquivalenceOptions = { ...DEFAULT_EQUIVALENCE, ...options.equivalence };
  const extraction = { strategies: options.strategies ?? DEFAULT_STRATEGIES, boxed: options.boxed ?? "last" };
  const defaultBudget = options.timeBudgetMs ?? 2000;

  function verify(rollout: Rollout, callOptions?: VerifyOptions): Reward {
    const { id } = rollout;
    const budgetMs = callOptions?.timeBudgetMs ?? defaultBudget;
    const budget = new Budget(budgetMs, limits);
    const answer = rollout.reference?.answer;
    if (answer === undefined)
      return errorReward(id, SOURCE, "no_reference", "math rollout has no reference.answer");
    try {
      let gold = parseAnswer(goldText(answer), budget);
      if (!gold.ok && !gold.limit) {
        // A gold written as a worked solution: extract its answer like a response's.
        const inner = extractCandidates(String(answer), extraction, limits.maxResponseLength)[0];
        if (inner !== undefined) {
          const again = parseAnswer(inner.text, budget);
          if (again.ok) gold = again;
        }
      }
      if (!gold.ok) {
        return errorReward(id, SOURCE, "gold_unparseable", `reference.answer: ${gold.reason}`);
      }
      const candidates = extractCandidates(rollout.response, extraction, limits.maxResponseLength);
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
        const decision =
          gold.text === pred.text
            ? { equal: true, strategy: "string" }
            : equivalent(gold.node, pred.node, budget, eqOpts);
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
