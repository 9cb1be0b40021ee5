// Maze shortest path: a 3x3 grid at difficulty 0, 21x21 at 10. The answer is a move string
// over U/D/L/R (spaces and commas ignored). ANY shortest path is accepted; a valid path that
// reaches the exit but is longer earns partial credit 0.5 x shortest/length.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";

const MOVES: Record<string, [number, number]> = { U: [-1, 0], D: [1, 0], L: [0, -1], R: [0, 1] };

/** BFS shortest path as a move string, or undefined when E is unreachable. */
export function shortestPath(rows: readonly string[]): string | undefined {
  const h = rows.length;
  const w = rows[0]?.length ?? 0;
  let start = -1;
  let end = -1;
  rows.forEach((row, r) => {
    for (let c = 0; c < w; c++) {
      if (row[c] === "S") start = r * w + c;
      if (row[c] === "E") end = r * w + c;
    }
  });
  if (start < 0 || end < 0) return undefined;
  const prev = new Map<number, [number, string]>([[start, [-1, ""]]]);
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const cur = queue[qi] as number;
    if (cur === end) break;
    const r = Math.floor(cur / w);
    const c = cur % w;
    for (const [m, [dr, dc]] of Object.entries(MOVES)) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nc < 0 || nr >= h || nc >= w || rows[nr]?.[nc] === "#") continue;
      const k = nr * w + nc;
      if (prev.has(k)) continue;
      prev.set(k, [cur, m]);
      queue.push(k);
    }
  }
  if (!prev.has(end)) return undefined;
  let path = "";
  for (let k = end; k !== start; ) {
    const [p, m] = prev.get(k) as [number, string];
    path = m + path;
    k = p;
  }
  return path;
}

export const maze = defineFamily({
  name: "maze",
  domain: "logic",
  description: "shortest path through a grid maze (any shortest path accepted)",
  measureName: "side",
  reference: z.looseObject({
    answer: z.string(),
    grid: z.array(z.string().regex(/^[.#SE]+$/)).min(1),
    shortest: z.number().int().positive(),
  }),
  generate(rng, d) {
    const side = lerp(d, 3, 21);
    const density = 0.2 + 0.02 * d;
    for (;;) {
      const cells = Array.from({ length: side * side }, (): string => (rng.chance(density) ? "#" : "."));
      const s = rng.int(0, side * side - 1);
      const e = rng.int(0, side * side - 1);
      cells[s] = "S";
      cells[e] = "E";
      if (s === e) continue;
      const grid = Array.from({ length: side }, (_, r) => cells.slice(r * side, r * side + side).join(""));
      const path = shortestPath(grid);
      // Demand a real walk: at least the side length, so bigger mazes mean longer paths.
      if (path === undefined || path.length < Math.max(2, side - 1)) continue;
      const prompt = isTerse(d)
        ? `maze ${grid.join("/")}`
        : `Find a shortest path from S to E in this maze ('#' is a wall, '.' is open; move up, down, left or right):\n${grid.join("\n")}\nAnswer with the moves as a string of U, D, L, R. ${FORMAT_HINT}`;
      return { prompt, reference: { answer: path, grid, shortest: path.length }, measure: side };
    }
  },
  check(ref, answer, options) {
    const moves = answer.toUpperCase().replace(/[\s,]/g, "");
    if (!/^[UDLR]+$/.test(moves)) return incorrect("not_a_move_string");
    const grid = ref.grid;
    let r = grid.findIndex((row) => row.includes("S"));
    if (r < 0) return incorrect("bad_reference");
    let c = (grid[r] as string).indexOf("S");
    for (const m of moves) {
      const [dr, dc] = MOVES[m] as [number, number];
      r += dr;
      c += dc;
      const cell = grid[r]?.[c];
      if (cell === undefined) return incorrect("leaves_the_grid");
      if (cell === "#") return incorrect("hits_a_wall");
    }
    if (grid[r]?.[c] !== "E") return incorrect("does_not_reach_exit");
    if (moves.length === ref.shortest) return correct();
    if (moves.length < ref.shortest) return incorrect("bad_reference");
    return options.partialCredit
      ? {
          score: (0.5 * ref.shortest) / moves.length,
          verdict: "partial",
          reason: "not_shortest",
          details: { length: moves.length, shortest: ref.shortest },
        }
      : incorrect("not_shortest");
  },
  wrongAnswers(ref) {
    const p = ref.answer;
    const flip: Record<string, string> = { U: "D", D: "U", L: "R", R: "L" };
    return [p.slice(0, -1), `${p}${p.at(-1)}`, flip[p[0] as string] + p.slice(1), "XYZ"];
  },
});
