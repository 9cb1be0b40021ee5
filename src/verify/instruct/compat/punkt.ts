// nltk's Punkt sentence tokenizer (PunktSentenceTokenizer.tokenize with realigned
// boundaries, as in nltk 3.9–3.10), re-implemented so IFEval's sentence counts and
// `word_tokenize` come out as the reference's. The algorithm is nltk's; its trained
// parameters are not shipped (their licence is unclarified: nltk/nltk_data#188) but read
// at run time from nltk's own data directory (`tokenizers/punkt_tab/english/`), which a
// machine that runs the reference has anyway.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isLowerPy, isUpperPy } from "../text.ts";
import { firstCodePoint, PY_SPACE_CHARS, pyRstrip } from "./py.ts";

export interface PunktParams {
  readonly abbrevTypes: ReadonlySet<string>;
  /** Pairs of types joined by a tab. */
  readonly collocations: ReadonlySet<string>;
  readonly sentStarters: ReadonlySet<string>;
  readonly orthoContext: ReadonlyMap<string, number>;
}

export class PunktModelMissing extends Error {}

/** nltk's search path for data (nltk.data.path on Linux, NLTK_DATA first). */
export function nltkDataPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env["NLTK_DATA"] ?? "").split(":").filter((p) => p !== "");
  return [
    ...fromEnv,
    join(env["HOME"] ?? homedir(), "nltk_data"),
    "/usr/share/nltk_data",
    "/usr/local/share/nltk_data",
    "/usr/lib/nltk_data",
    "/usr/local/lib/nltk_data",
  ];
}

const FILES = ["abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab"];

export function findPunktDir(lang = "english", env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const root of nltkDataPath(env)) {
    const dir = join(root, "tokenizers", "punkt_tab", lang);
    if (FILES.every((f) => existsSync(join(dir, f)))) return dir;
  }
  return undefined;
}

/** Lines as nltk's TabDecoder reads them: one final "\n" removed per line, nothing else. */
function lines(path: string): string[] {
  const text = readFileSync(path, "utf8");
  const out = text.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

export function loadPunktParams(dir: string): PunktParams {
  const orthoContext = new Map<string, number>();
  for (const [i, line] of lines(join(dir, "ortho_context.tab")).entries()) {
    const tab = line.lastIndexOf("\t");
    const n = Number(line.slice(tab + 1));
    if (tab < 0 || !Number.isInteger(n))
      throw new Error(`${join(dir, "ortho_context.tab")}:${i + 1}: bad line`);
    orthoContext.set(line.slice(0, tab), n);
  }
  return {
    abbrevTypes: new Set(lines(join(dir, "abbrev_types.txt"))),
    collocations: new Set(lines(join(dir, "collocations.tab"))),
    sentStarters: new Set(lines(join(dir, "sent_starters.txt"))),
    orthoContext,
  };
}

let cached: { key: string; dir: string | undefined; punkt?: Punkt } | undefined;

/**
 * The English Punkt tokenizer from nltk's data path (looked up once per NLTK_DATA/HOME,
 * loaded once); throws PunktModelMissing when nltk's data has no punkt_tab/english.
 */
export function englishPunkt(env: NodeJS.ProcessEnv = process.env): Punkt {
  const key = `${env["NLTK_DATA"] ?? ""}\0${env["HOME"] ?? ""}`;
  if (cached?.key !== key) cached = { key, dir: findPunktDir("english", env) };
  if (cached.dir === undefined) {
    throw new PunktModelMissing(
      "IFEval compat mode counts sentences with nltk's Punkt English model, which is not " +
        "bundled: install it as for nltk (tokenizers/punkt_tab/english under NLTK_DATA or ~/nltk_data)",
    );
  }
  cached.punkt ??= new Punkt(loadPunktParams(cached.dir));
  return cached.punkt;
}

const ORTHO_BEG_UC = 1 << 1;
const ORTHO_MID_UC = 1 << 2;
const ORTHO_UNK_UC = 1 << 3;
const ORTHO_BEG_LC = 1 << 4;
const ORTHO_MID_LC = 1 << 5;
const ORTHO_UNK_LC = 1 << 6;
const ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + ORTHO_UNK_UC;
const ORTHO_LC = ORTHO_BEG_LC + ORTHO_MID_LC + ORTHO_UNK_LC;

const S = `[${PY_SPACE_CHARS}]`;
const NS = `[^${PY_SPACE_CHARS}]`;
// PunktLanguageVars for English, Python's VERBOSE patterns written out.
const NON_WORD = "[)\";}\\]*:@'({\\[\u2018\u2019\u201c\u201d\u00ab\u00bb?!]";
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.${S}){2,}\\.)`;
const WORD_START = '[^("`{\\[:;&#*@)}\\]\\-,]';
const WORD_TOKEN = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})${NS}+?(?=${S}|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|${S}|${NON_WORD}|${MULTI_CHAR}))|${NS}`,
  "gu",
);
const PERIOD_CONTEXT = new RegExp(`[.?!](?=(${NON_WORD}|${S}+(${NS}+)))`, "gud");
const REALIGN = new RegExp(`^["')\\]}\u2018\u2019\u201c\u201d\u00ab\u00bb]+?(?:${S}+|(?=--)|(?=\\n|$))`, "u");
const NUMERIC = /^-?[.,]?\p{Nd}[\p{Nd},.-]*\.?$/u;
const INITIAL = /^[\p{L}\p{Nl}\p{No}_]\.$/u;
const ELLIPSIS = /^\.\.+$/;
const PUNCTUATION = new Set([";", ":", ",", ".", "!", "?"]);
const ASCII_WHITESPACE = new Set([" ", "\t", "\n", "\r", "\x0b", "\x0c"]);

interface Token {
  readonly tok: string;
  readonly type: string;
  readonly periodFinal: boolean;
  sentbreak: boolean;
  abbr: boolean;
  ellipsis: boolean;
}

function token(tok: string): Token {
  const lower = tok.toLowerCase();
  return {
    tok,
    type: NUMERIC.test(lower) ? "##number##" : lower,
    periodFinal: tok.endsWith("."),
    sentbreak: false,
    abbr: false,
    ellipsis: false,
  };
}

function typeNoPeriod(t: Token): string {
  return t.type.length > 1 && t.type.endsWith(".") ? t.type.slice(0, -1) : t.type;
}

function typeNoSentperiod(t: Token): string {
  return t.sentbreak ? typeNoPeriod(t) : t.type;
}

export class Punkt {
  readonly #p: PunktParams;

  constructor(params: PunktParams) {
    this.#p = params;
  }

  /** The sentences of `text`, as `PunktSentenceTokenizer.tokenize(text)` returns them. */
  sentences(text: string): string[] {
    return this.spans(text).map(([a, b]) => text.slice(a, b));
  }

  count(text: string): number {
    return this.spans(text).length;
  }

  /** `span_tokenize(text)` with realigned boundaries. */
  spans(text: string): Array<[number, number]> {
    const slices = this.#slicesFromText(text);
    const out: Array<[number, number]> = [];
    let realign = 0;
    for (let i = 0; i < slices.length; i++) {
      const s1: [number, number] = [slices[i]![0] + realign, slices[i]![1]];
      const s2 = slices[i + 1];
      if (s2 === undefined) {
        if (s1[0] < s1[1] && s1[0] < text.length) out.push(s1);
        continue;
      }
      const m = REALIGN.test(text[s2[0]] ?? "") ? REALIGN.exec(text.slice(s2[0], s2[1])) : null;
      if (m !== null) {
        out.push([s1[0], s2[0] + pyRstrip(m[0]).length]);
        realign = m[0].length;
      } else {
        realign = 0;
        if (s1[0] < s1[1] && s1[0] < text.length) out.push(s1);
      }
    }
    return out;
  }

  #slicesFromText(text: string): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let lastBreak = 0;
    for (const [m, context] of this.#potentialEndContexts(text)) {
      if (!this.#containsSentbreak(context)) continue;
      out.push([lastBreak, m.index + 1]);
      lastBreak = m[2] ? m.indices![2]![0] : m.index + 1;
    }
    out.push([lastBreak, pyRstrip(text).length]);
    return out;
  }

  /** `_match_potential_end_contexts`, quirks included (a space at offset 0 counts as none). */
  *#potentialEndContexts(text: string): Generator<[RegExpExecArray, string]> {
    let prev: [number, number] = [0, 0];
    let prevMatch: RegExpExecArray | undefined;
    const emit = (m: RegExpExecArray, s: [number, number]): [RegExpExecArray, string] => [
      m,
      text.slice(s[0], s[1]) + m[0] + m[1],
    ];
    PERIOD_CONTEXT.lastIndex = 0;
    for (let m = PERIOD_CONTEXT.exec(text); m !== null; m = PERIOD_CONTEXT.exec(text)) {
      let ws = 0;
      for (let i = m.index - 1; i > prev[1]; i--) {
        if (ASCII_WHITESPACE.has(text[i]!)) {
          ws = i - prev[1];
          break;
        }
      }
      const wordStart = ws !== 0 ? ws + prev[1] + 1 : prev[0];
      if (prevMatch !== undefined && prev[1] <= wordStart) yield emit(prevMatch, prev);
      prevMatch = m;
      prev = [wordStart, m.index];
    }
    if (prevMatch !== undefined) yield emit(prevMatch, prev);
  }

  #containsSentbreak(context: string): boolean {
    const tokens: Token[] = [];
    for (const line of context.split("\n")) {
      if (pyRstrip(line) === "") continue;
      for (const t of line.match(WORD_TOKEN) ?? []) tokens.push(this.#firstPass(token(t)));
    }
    let found = false;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const next = tokens[i + 1];
      if (next !== undefined) this.#secondPass(t, next);
      if (found) return true;
      if (t.sentbreak) found = true;
    }
    return false;
  }

  #firstPass(t: Token): Token {
    const tok = t.tok;
    if (tok === "." || tok === "?" || tok === "!") t.sentbreak = true;
    else if (ELLIPSIS.test(tok)) t.ellipsis = true;
    else if (t.periodFinal && !tok.endsWith("..")) {
      const base = tok.slice(0, -1).toLowerCase();
      if (this.#p.abbrevTypes.has(base) || this.#p.abbrevTypes.has(base.split("-").at(-1)!)) t.abbr = true;
      else t.sentbreak = true;
    }
    return t;
  }

  #ortho(typ: string): number {
    return this.#p.orthoContext.get(typ) ?? 0;
  }

  /** `_second_pass_annotation`: collocations, orthographic and sentence-starter heuristics. */
  #secondPass(t1: Token, t2: Token): void {
    if (!t1.periodFinal) return;
    const typ = typeNoPeriod(t1);
    const nextTyp = typeNoSentperiod(t2);
    const initial = INITIAL.test(t1.tok);
    if (this.#p.collocations.has(`${typ}\t${nextTyp}`)) {
      t1.sentbreak = false;
      t1.abbr = true;
      return;
    }
    if ((t1.abbr || t1.ellipsis) && !initial) {
      const starter = this.#orthoHeuristic(t2);
      if (starter === true) {
        t1.sentbreak = true;
        return;
      }
      if (isUpperPy(firstCodePoint(t2.tok)) && this.#p.sentStarters.has(nextTyp)) {
        t1.sentbreak = true;
        return;
      }
    }
    if (initial || typ === "##number##") {
      const starter = this.#orthoHeuristic(t2);
      if (starter === false) {
        t1.sentbreak = false;
        t1.abbr = true;
        return;
      }
      if (
        starter === "unknown" &&
        initial &&
        isUpperPy(firstCodePoint(t2.tok)) &&
        !(this.#ortho(nextTyp) & ORTHO_LC)
      ) {
        t1.sentbreak = false;
        t1.abbr = true;
      }
    }
  }

  #orthoHeuristic(t: Token): boolean | "unknown" {
    if (PUNCTUATION.has(t.tok)) return false;
    const ctx = this.#ortho(typeNoSentperiod(t));
    const first = firstCodePoint(t.tok);
    if (isUpperPy(first) && ctx & ORTHO_LC && !(ctx & ORTHO_MID_UC)) return true;
    if (isLowerPy(first) && (ctx & ORTHO_UC || !(ctx & ORTHO_BEG_LC))) return false;
    return "unknown";
  }
}
