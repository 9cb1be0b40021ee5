// The `qa` verifier: short-answer exact match against one or several gold answers, as
// Search-R1 and verl's `searchR1_*` data sources score (verl
// utils/reward_score/search_r1_like_qa_em.py): the answer is the last <answer>…</answer>
// of the response; both sides are SQuAD-normalised (lower case, no ASCII punctuation, no
// articles, single spaces) and any gold that matches scores 1.
import { errorReward, invalidReward } from "../../core/rewards.ts";
import type { Reward, Rollout } from "../../core/schemas.ts";
import type { Verifier } from "../types.ts";

export const QA_SOURCE = "rtv:qa";

/** Longer answers are not short answers; refusing them bounds the normalisation work. */
const MAX_ANSWER_CHARS = 4096;

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function normalizeQa(s: string): string {
  return s
    .toLowerCase()
    .replace(PUNCTUATION, "")
    .replace(/\b(?:a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter((w) => w !== "")
    .join(" ");
}

/** The body of the last <answer>…</answer>, or undefined. */
export function lastAnswerTag(response: string): string | undefined {
  const end = response.lastIndexOf("</answer>");
  if (end < 0) return undefined;
  const start = response.lastIndexOf("<answer>", end);
  if (start < 0) return undefined;
  return response.slice(start + "<answer>".length, end).trim();
}

/** The gold answers of a reference: `answers` (a list) or `answer`. */
export function goldAnswers(reference: Rollout["reference"]): string[] {
  const many = reference?.["answers"];
  if (Array.isArray(many))
    return many.filter((a) => typeof a === "string" || typeof a === "number").map(String);
  const one = reference?.answer;
  return one === undefined ? [] : [String(one)];
}

export function createQaVerifier(): Verifier {
  return {
    domain: "qa",
    source: QA_SOURCE,
    verify(rollout: Rollout): Reward {
      const golds = goldAnswers(rollout.reference);
      if (golds.length === 0) {
        return errorReward(
          rollout.id,
          QA_SOURCE,
          "no_reference",
          "reference.answers (or reference.answer) is missing or empty",
        );
      }
      const answer = lastAnswerTag(rollout.response);
      if (answer === undefined)
        return invalidReward(rollout.id, QA_SOURCE, "no <answer>…</answer> in the response");
      if (answer.length > MAX_ANSWER_CHARS) {
        return invalidReward(rollout.id, QA_SOURCE, `answer longer than ${MAX_ANSWER_CHARS} characters`);
      }
      const got = normalizeQa(answer);
      const hit = golds.find((g) => normalizeQa(g) === got);
      return {
        id: rollout.id,
        score: hit === undefined ? 0 : 1,
        verdict: hit === undefined ? "incorrect" : "correct",
        source: QA_SOURCE,
        details: { extracted: answer.slice(0, 200), ...(hit !== undefined ? { matched: hit } : {}) },
      };
    },
  };
}

export const createVerifier = createQaVerifier;
