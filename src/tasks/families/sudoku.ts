// Small Sudoku: 4x4 with two blanks at difficulty 0, 6x6 in the middle, 9x9 with 56 blanks
// at 10. ANY valid completion consistent with the givens is accepted (puzzles with many
// blanks need not have a unique solution). The answer is the grid's digits, row by row;
// whitespace, commas and '|' between them are ignored.
import { z } from "zod";
import { stripFence } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse } from "../family.ts";
import type { Rng } from "../rng.ts";

const BOXES: Record<number, [number, number]> = { 4: [2, 2], 6: [2, 3], 9: [3, 3] };

/** A random valid full grid: a base Latin pattern shuffled by symbol, row-in-band, band, column-in-stack and stack permutations. */
function solvedGrid(rng: Rng, n: number): number[][] {
  const [br, bc] = BOXES[n] as [number, number];
  const symbols = rng.shuffle(Array.from({ length: n }, (_, i) => i + 1));
  const order = (blocks: number, per: number): number[] =>
    rng
      .shuffle(Array.from({ length: blocks }, (_, b) => b))
      .flatMap((b) => rng.shuffle(Array.from({ length: per }, (_, i) => b * per + i)));
  const rows = order(n / br, br);
  const cols = order(n / bc, bc);
  return rows.map((r) => cols.map((c) => symbols[(bc * (r % br) + Math.floor(r / br) + c) % n] as number));
}

/** Parses a grid answer to n*n digits, or a reason it is not one. */
export function parseGrid(text: string, n: number): number[] | string {
  const s = stripFence(text).replace(/[\s,|+-]/g, "");
  if (!/^\d*$/.test(s)) return "non_digit_characters";
  if (s.length !== n * n) return "wrong_cell_count";
  return [...s].map(Number);
}

export function gridViolation(cells: readonly number[], n: number): string | undefined {
  const [br, bc] = BOXES[n] as [number, number];
  for (let i = 0; i < n; i++) {
    const row = new Set<number>();
    const col = new Set<number>();
    const box = new Set<number>();
    const r0 = Math.floor(i / (n / bc)) * br;
    const c0 = (i % (n / bc)) * bc;
    for (let j = 0; j < n; j++) {
      const a = cells[i * n + j] as number;
      if (a < 1 || a > n) return "digit_out_of_range";
      row.add(a);
      col.add(cells[j * n + i] as number);
      box.add(cells[(r0 + Math.floor(j / bc)) * n + c0 + (j % bc)] as number);
    }
    if (row.size !== n) return `row_${i + 1}_repeats`;
    if (col.size !== n) return `column_${i + 1}_repeats`;
    if (box.size !== n) return `box_${i + 1}_repeats`;
  }
  return undefined;
}

export const sudoku = defineFamily({
  name: "sudoku",
  domain: "logic",
  description: "complete a 4x4, 6x6 or 9x9 Sudoku (any valid completion accepted)",
  measureName: "blanks",
  reference: z.looseObject({
    answer: z.string(),
    size: z.union([z.literal(4), z.literal(6), z.literal(9)]),
    puzzle: z.string().regex(/^[.1-9]+$/),
  }),
  generate(rng, d) {
    const n = d < 3 ? 4 : d < 6 ? 6 : 9;
    // Blanks grow within each size band, and each band starts above the previous one's end.
    const blanks =
      d < 3
        ? 2 + Math.floor((8 * d) / 3)
        : d < 6
          ? 10 + Math.floor((14 * (d - 3)) / 3)
          : 25 + Math.floor((31 * (d - 6)) / 4);
    const grid = solvedGrid(rng, n).flat();
    const hidden = rng.shuffle(Array.from({ length: n * n }, (_, i) => i)).slice(0, blanks);
    const puzzle = grid.map((v, i) => (hidden.includes(i) ? "." : String(v)));
    const rows = Array.from({ length: n }, (_, r) => puzzle.slice(r * n, r * n + n).join(""));
    const prompt = isTerse(d)
      ? `sudoku ${rows.join("/")}`
      : `Complete this ${n}x${n} Sudoku ('.' is blank; each row, column and ${BOXES[n]?.[0]}x${BOXES[n]?.[1]} box must contain 1-${n} once). Rows:\n${rows.join("\n")}\nGive the completed grid as ${n} rows of ${n} digits. ${FORMAT_HINT}`;
    const answer = Array.from({ length: n }, (_, r) => grid.slice(r * n, r * n + n).join("")).join(
      isTerse(d) ? "/" : "\n",
    );
    return { prompt, reference: { answer, size: n, puzzle: puzzle.join("") }, measure: blanks };
  },
  check(ref, answer) {
    const n = ref.size;
    if (ref.puzzle.length !== n * n) return incorrect("bad_reference");
    const cells = parseGrid(answer.replace(/\//g, ""), n);
    if (typeof cells === "string") return incorrect(cells);
    for (let i = 0; i < n * n; i++) {
      const given = ref.puzzle[i];
      if (given !== "." && Number(given) !== cells[i]) return incorrect("changes_a_given", { cell: i });
    }
    const bad = gridViolation(cells, n);
    return bad === undefined ? correct() : incorrect(bad);
  },
  wrongAnswers(ref, rng) {
    const digits = ref.answer.replace(/\D/g, "");
    const n = ref.size;
    const blanks = [...ref.puzzle].flatMap((c, i) => (c === "." ? [i] : []));
    const out = [digits.slice(1), digits.replace(/\d/, "0")];
    // Change one blank cell to another digit: breaks its row.
    const i = rng.pick(blanks);
    const v = Number(digits[i]);
    out.push(digits.slice(0, i) + String((v % n) + 1) + digits.slice(i + 1));
    // Change a given cell: caught as a change to the puzzle even before validity.
    const givens = [...ref.puzzle].flatMap((c, k) => (c === "." ? [] : [k]));
    if (givens.length > 0) {
      const g = rng.pick(givens);
      out.push(digits.slice(0, g) + String((Number(digits[g]) % n) + 1) + digits.slice(g + 1));
    }
    return out;
  },
});
