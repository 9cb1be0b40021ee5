// String-level clean-up of an extracted answer before parsing: LaTeX spellings that mean
// the same thing, presentation-only commands, unit words and Unicode symbols. Everything
// here must keep the meaning; anything semantic is left to the parser.

const UNICODE: ReadonlyArray<readonly [RegExp, string]> = [
  [/[−–—]/g, "-"],
  [/×/g, "\\times "],
  [/÷/g, "\\div "],
  [/·|⋅/g, "\\cdot "],
  [/π/g, "\\pi "],
  [/∞/g, "\\infty "],
  [/√/g, "\\sqrt"],
  [/≤/g, "\\le "],
  [/≥/g, "\\ge "],
  [/≠/g, "\\ne "],
  [/∪/g, "\\cup "],
  [/°/g, "^\\circ"],
  [/²/g, "^2"],
  [/³/g, "^3"],
  [/\u00a0|\u2009|\u202f/g, " "],
  [/[€£¥₹]/g, ""],
];

/** Units and other trailing words that name what a number counts, not its value. */
const UNIT_WORDS = [
  "units?",
  "square\\s+units?",
  "sq\\.?\\s*units?",
  "cubic\\s+units?",
  "degrees?",
  "radians?",
  "rad",
  "dollars?",
  "cents?",
  "euros?",
  "pounds?",
  "percent(?:age)?",
  "pct",
  "meters?",
  "metres?",
  "centimeters?",
  "millimeters?",
  "kilometers?",
  "km",
  "cm",
  "mm",
  "inches",
  "inch",
  "feet",
  "foot",
  "ft",
  "yards?",
  "miles?",
  "mph",
  "km/h",
  "m/s",
  "seconds?",
  "secs?",
  "minutes?",
  "mins?",
  "hours?",
  "hrs?",
  "days?",
  "weeks?",
  "months?",
  "years?",
  "grams?",
  "kg",
  "kilograms?",
  "liters?",
  "litres?",
  "ml",
  "gallons?",
  "ounces?",
  "oz",
  "lbs?",
  "people",
  "persons?",
  "students?",
  "apples?",
  "books?",
  "marbles?",
  "cookies?",
  "candies",
  "pages?",
  "points?",
  "ways?",
  "times",
  "items?",
  "cars?",
  "balls?",
  "boxes",
  "eggs?",
  "trees?",
  "sides?",
  "steps?",
  "games?",
  "coins?",
  "pieces?",
];
const UNIT_ALT = UNIT_WORDS.join("|");
// A unit after a number, closing parenthesis or brace, optionally squared/cubed.
const TRAILING_UNIT = new RegExp(
  `(?:(?<=[\\d)}])\\s*(?:${UNIT_ALT})|(?<=\\d)\\s+(?:m|s|g|h|l|in)|(?<=\\d)\\s*(?:m|in)(?=\\^\\{?[23]))(?:\\^\\{?[23]\\}?)?\\.?$`,
  "i",
);
/** A unit inside a list or set: "{35 cm, 4}". */
const INNER_UNIT = new RegExp(`(?<=\\d)\\s+(?:${UNIT_ALT})(?:\\^\\{?[23]\\}?)?(?=\\s*[,;)}\\]])`, "gi");
const TEXT_UNIT = new RegExp(`\\\\text\\{\\s*(?:${UNIT_ALT})\\s*\\}(?:\\^\\{?[23]\\}?)?`, "gi");

/** Normalises an extracted answer; returns the cleaned string and whether it carried a degree sign. */
/** 0.1\overline{6} → the fraction it denotes, 1/6 (at most 40 digits on each side). */
function repeatingDecimals(s: string): string {
  return s.replace(
    /(\d{0,40})\.(\d{0,40})\s*\\(?:overline|bar|dot)\s*\{(\d{1,40})\}/g,
    (_m, int: string, pre: string, rep: string) => {
      const nines = 10n ** BigInt(rep.length) - 1n;
      const shift = 10n ** BigInt(pre.length);
      const num = (BigInt(int || "0") * shift + BigInt(pre || "0")) * nines + BigInt(rep);
      return `(\\frac{${num}}{${shift * nines}})`;
    },
  );
}

export function normalizeAnswer(raw: string): string {
  let s = repeatingDecimals(raw.replace(/\*\*/g, ""));
  for (const [re, to] of UNICODE) s = s.replace(re, to);
  // Outside matrices a doubled backslash before a command name is an escaping slip, not a row break.
  if (!s.includes("begin")) s = s.replace(/\\\\(?=[a-zA-Z])/g, "\\");
  s = s
    .replace(/(\d)\\,(?=\d{3}(?!\d))/g, "$1")
    .replace(/(\d),\s*\\[!,]\s*(?=\d{3}(?!\d))/g, "$1")
    // "x \approx 11" is the value 11; "\frac{9.5}{\pi} \approx 3.01" is its exact left side.
    .replace(/^(\s*[A-Za-z](?:_\{?\w+\}?)?\s*)\\approx/, "$1=")
    .replace(/\\approx[^=]*$/, "")
    .replace(/\\(?:d|t|c)frac/g, "\\frac")
    .replace(/\\(?:displaystyle|textstyle|limits|nolimits|left|right|big|Big|bigg|Bigg)(?![a-zA-Z])/g, "")
    .replace(/(?<!\\)\\(?:[,;:! ]|quad|qquad)/g, " ")
    .replace(/~/g, " ")
    .replace(/(\d)\s*\{,\s*\}\s*(?=\d{3}(?!\d))/g, "$1")
    .replace(/\{,\}/g, "")
    .replace(/\\\$/g, "")
    .replace(/\$/g, "")
    .replace(
      /\\(?:mathrm|mathbf|mathit|textbf|textit|textrm|mbox|mathsf|operatorname|hbox|boldsymbol|textnormal|textsf)\s*\{/g,
      "\\text{",
    )
    .replace(/\\(?:lvert|rvert|vert)(?![a-zA-Z])/g, "|")
    .replace(/\\(?:lbrace)(?![a-zA-Z])/g, "\\{")
    .replace(/\\(?:rbrace)(?![a-zA-Z])/g, "\\}")
    .replace(/\\(?:dots|ldots|cdots)(?![a-zA-Z])/g, " ")
    .replace(/\^\s*\{?\s*\\circ\s*\}?/g, "")
    .replace(/\\degree(?![a-zA-Z])/g, "")
    .replace(/\\%|%/g, " \\% ")
    .replace(TEXT_UNIT, " ")
    // Any other unit word written in \text after a number: "0.06 \text{ yuan}".
    .replace(/(?<=[\d}]\s*)\\text\{\s*(?!(?:and|or)\s*\})[A-Za-z]+(?:\s+[A-Za-z]+)?\s*\}/g, " ")
    // "(11,7)or(7,11)": a connective written between brackets without spaces.
    .replace(/(?<=[)\]}])\s*(?:and|or)\s*(?=[([{\\])|(?<=[\d)}])or(?=[A-Z(\\])/g, ", ");
  // \text{e} etc. written for constants.
  s = s.replace(/\\text\{\s*(e|i|pi)\s*\}/g, (_m, c: string) => (c === "pi" ? "\\pi " : ` ${c} `));
  s = s.replace(/\\text\{\s*(?:and|or)\s*\}/g, ",").replace(/\s+(?:and|or)\s+/g, ", ");
  s = s.replace(INNER_UNIT, "");
  s = s.trim().replace(/[.;,\s]+$/, "");
  // Repeated unit stripping: "5 square units", "12 cm^2".
  for (let i = 0; i < 2; i++) {
    const next = s.replace(TRAILING_UNIT, "").trim();
    if (next === s || next === "") break;
    s = next;
  }
  // Percent words inside boxes: \boxed{28 percent}.
  s = s.replace(/(\d)\s*(?:percent(?:age)?|pct)\b/gi, "$1 \\%");
  // Space-grouped thousands: "1 000 000".
  if (/^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, "");
  // Plain mixed numbers "3 1/2".
  const mixed = /^(-?)(\d+)\s+(\d+)\s*\/\s*(\d+)$/.exec(s);
  if (mixed !== null && Number(mixed[3]) < Number(mixed[4])) {
    s = `${mixed[1]}(${mixed[2]}+\\frac{${mixed[3]}}{${mixed[4]}})`;
  }
  return s.trim();
}

const UNITS_WORDS: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const SCALES: Readonly<Record<string, number>> = { hundred: 100, thousand: 1000, million: 1_000_000 };

/** A whole answer spelled in English words ("five", "twenty-one", "three hundred") → digits. */
export function wordNumber(s: string): string {
  const words = s
    .toLowerCase()
    .replace(/-/g, " ")
    .replace(/\band\b/g, " ")
    .trim()
    .split(/\s+/);
  if (words.length === 0 || words.length > 8 || !words.every((w) => w in UNITS_WORDS || w in SCALES))
    return s;
  let total = 0;
  let group = 0;
  for (const w of words) {
    const u = UNITS_WORDS[w];
    if (u !== undefined) group += u;
    else if (w === "hundred") group = (group || 1) * 100;
    else {
      total += (group || 1) * SCALES[w]!;
      group = 0;
    }
  }
  return String(total + group);
}
