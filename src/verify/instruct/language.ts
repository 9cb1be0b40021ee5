// Deterministic language identification for `language:response_language` and the
// English half of the change_case checks. IFEval calls an unseeded `langdetect`, so its
// verdicts vary from run to run; these libraries are pure functions of the text.
// eld identifies 60 languages and was the most accurate and fastest of the candidates we
// measured (docs/instruct-verifier.md); franc-min covers IFEval's Nepali and Swahili,
// which eld does not know, and a few more languages spoken by 8M+ people.
import { eld } from "eld/medium";
import { franc } from "franc-min";

const ELD_LANGUAGES: ReadonlySet<string> = new Set(
  (
    "am ar az be bg bn ca cs da de el en es et eu fa fi fr gu he hi hr hu hy is it ja ka kn ko ku lo lt lv " +
    "ml mr ms nl no or pa pl pt ro ru sk sl sq sr sv ta te th tl tr uk ur vi yo zh"
  ).split(" "),
);

/** ISO 639-1 → the ISO 639-3 codes franc-min reports, for languages eld does not know. */
const FRANC_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  ne: ["npi"],
  sw: ["swh"],
  id: ["ind"],
  jv: ["jav"],
  ha: ["hau"],
  ig: ["ibo"],
  zu: ["zul"],
  so: ["som"],
  uz: ["uzn"],
  rw: ["kin"],
  ny: ["nya"],
  mg: ["plt"],
  ceb: ["ceb"],
  su: ["sun"],
};

export function isSupportedLanguage(code: string): boolean {
  return ELD_LANGUAGES.has(code) || code in FRANC_LANGUAGES;
}

export function supportedLanguages(): string[] {
  return [...ELD_LANGUAGES, ...Object.keys(FRANC_LANGUAGES)].sort();
}

export interface LanguageGuess {
  /** ISO 639-1 code, or "" when the text carries no letters to judge by. */
  readonly language: string;
  readonly detector: "eld" | "franc-min" | "none";
}

const HAS_LETTER = /\p{L}/u;

/** Which language `text` is in, answered by the detector responsible for `target`. */
function detectOne(text: string, target: string): LanguageGuess {
  const francCodes = FRANC_LANGUAGES[target];
  if (francCodes !== undefined) {
    const code = franc(text, { minLength: 1 });
    return { language: francCodes.includes(code) ? target : code, detector: "franc-min" };
  }
  return { language: eld.detect(text).language, detector: "eld" };
}

const WHOLE_TEXT_LIMIT = 1500;
const WINDOW = 500;

/** A WINDOW-sized slice of `text` around `at`, widened to whole words. */
function window(text: string, at: number): string {
  let from = Math.max(0, Math.min(at, text.length - WINDOW));
  let to = Math.min(text.length, from + WINDOW);
  while (from > 0 && !/\s/.test(text[from - 1]!)) from--;
  while (to < text.length && !/\s/.test(text[to]!)) to++;
  return text.slice(from, to);
}

/**
 * The language of `text` as judged for `target`. Detection cost grows with length, and
 * "the ENTIRE response in X" is about every part of it, so a long text is judged by three
 * windows (start, middle, end): the answer is `target` only if every window with letters
 * is; otherwise it is the first other language found.
 */
export function detectLanguage(text: string, target = "en"): LanguageGuess {
  if (!HAS_LETTER.test(text)) return { language: "", detector: "none" };
  if (text.length <= WHOLE_TEXT_LIMIT) return detectOne(text, target);
  let guess: LanguageGuess | undefined;
  for (const at of [0, (text.length - WINDOW) >> 1, text.length - WINDOW]) {
    const part = window(text, at);
    if (!HAS_LETTER.test(part)) continue;
    guess = detectOne(part, target);
    if (guess.language !== target) return guess;
  }
  return guess ?? detectOne(text, target);
}
