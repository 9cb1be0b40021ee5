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
export function detectLanguage(text: string, target = "en"): LanguageGuess {
  if (!HAS_LETTER.test(text)) return { language: "", detector: "none" };
  const francCodes = FRANC_LANGUAGES[target];
  if (francCodes !== undefined) {
    const code = franc(text, { minLength: 1 });
    const hit = francCodes.includes(code);
    return { language: hit ? target : code, detector: "franc-min" };
  }
  return { language: eld.detect(text).language, detector: "eld" };
}
