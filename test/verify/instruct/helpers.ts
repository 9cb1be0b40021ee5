// Runs one instruction against one response through the public verifier, so the tests
// exercise kwargs validation, compilation and scoring exactly as production does.
import type { Reward } from "../../../src/core/schemas.ts";
import { createInstructionVerifier } from "../../../src/verify/instruct/verifier.ts";

const strict = createInstructionVerifier({ mode: "strict" });
const loose = createInstructionVerifier({ mode: "loose" });

export interface Outcome {
  ok: boolean;
  why: string;
  variant?: string;
}

export function verifyOne(
  type: string,
  kwargs: Record<string, unknown>,
  response: string,
  mode: "strict" | "loose" = "strict",
): Reward {
  const v = mode === "strict" ? strict : loose;
  return v.verify({
    id: "t",
    domain: "instruction",
    response,
    reference: { instructions: [{ type, kwargs }] },
  }) as Reward;
}

export function outcome(
  type: string,
  kwargs: Record<string, unknown>,
  response: string,
  mode: "strict" | "loose" = "strict",
): Outcome {
  const r = verifyOne(type, kwargs, response, mode);
  if (r.verdict === "invalid") throw new Error(`invalid: ${String(r.details?.["reason"])}`);
  const list = r.details?.["instructions"] as Outcome[];
  return list[0]!;
}

export interface Case {
  type: string;
  kwargs?: Record<string, unknown>;
  /** Responses that follow the instruction (strict mode). */
  pass: string[];
  /** Responses that do not. */
  fail: string[];
  note?: string;
}

/** Valid kwargs for every instruction type, for tests that sweep all of them. */
export const SAMPLE_KWARGS: Readonly<Record<string, Record<string, unknown>>> = {
  "keywords:existence": { keywords: ["alpha", "beta"] },
  "keywords:frequency": { keyword: "alpha", frequency: 2, relation: "at least" },
  "keywords:forbidden_words": { forbidden_words: ["alpha"] },
  "keywords:letter_frequency": { letter: "a", let_frequency: 3, let_relation: "less than" },
  "language:response_language": { language: "en" },
  "length_constraints:number_sentences": { num_sentences: 3, relation: "at least" },
  "length_constraints:number_paragraphs": { num_paragraphs: 2 },
  "length_constraints:number_words": { num_words: 10, relation: "less than" },
  "length_constraints:nth_paragraph_first_word": { num_paragraphs: 2, nth_paragraph: 1, first_word: "alpha" },
  "detectable_content:number_placeholders": { num_placeholders: 2 },
  "detectable_content:postscript": { postscript_marker: "P.S." },
  "detectable_format:number_bullet_lists": { num_bullets: 3 },
  "detectable_format:number_highlighted_sections": { num_highlights: 2 },
  "detectable_format:multiple_sections": { section_spliter: "Section", num_sections: 2 },
  "combination:repeat_prompt": { prompt_to_repeat: "Say alpha." },
  "startend:end_checker": { end_phrase: "The end." },
  "change_case:capital_word_frequency": { capital_frequency: 2, capital_relation: "at least" },
  "count:word_count_range": { min_words: 2, max_words: 50 },
  "count:unique_word_count": { N: 5 },
  "count:keywords_multiple": { keyword1: "a", keyword2: "b", keyword3: "c", keyword4: "d", keyword5: "e" },
  "count:numbers": { N: 2 },
  "words:repeats": { small_n: 2 },
  "words:keywords_specific_position": { keyword: "alpha", n: 1, m: 2 },
  "words:words_position": { keyword: "alpha" },
  "sentence:keyword": { word: "alpha", N: 1 },
  "sentence:increment": { small_n: 1 },
  "datascale:sentence_length": { max_words: 10 },
  "datascale:ordered_keywords": { keywords: ["alpha", "beta"] },
};
