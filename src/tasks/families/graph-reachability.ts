// Graph reachability: is there a directed path from one node to another? Three nodes at
// difficulty 0, forty nodes at 10. Yes and no are balanced; the "yes" cases at higher
// difficulty need longer paths.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import { parseYesNo } from "./propositional.ts";

function distances(n: number, edges: readonly [number, number][], from: number): number[] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) adj[a]?.push(b);
  const dist = new Array<number>(n).fill(-1);
  dist[from] = 0;
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i] as number;
    for (const v of adj[u] ?? []) {
      if (dist[v] === -1) {
        dist[v] = (dist[u] as number) + 1;
        queue.push(v);
      }
    }
  }
  return dist;
}

export const graphReachability = defineFamily({
  name: "graph_reachability",
  domain: "logic",
  description: "decide whether a directed graph has a path between two nodes",
  measureName: "nodes",
  reference: z.looseObject({ answer: z.enum(["yes", "no"]) }),
  generate(rng, d) {
    const n = lerp(d, 3, 40);
    const want = rng.chance(0.5);
    for (;;) {
      const m = Math.max(2, Math.round(n * (0.8 + 0.01 * d * 3)));
      const edges: [number, number][] = [];
      const seen = new Set<string>();
      while (edges.length < m && seen.size < n * (n - 1)) {
        const a = rng.int(0, n - 1);
        const b = rng.int(0, n - 1);
        if (a === b || seen.has(`${a},${b}`)) continue;
        seen.add(`${a},${b}`);
        edges.push([a, b]);
      }
      // Start from a node with an outgoing edge: an isolated start makes "no" trivial.
      const from = rng.pick(edges)[0];
      const dist = distances(n, edges, from);
      const minHops = Math.max(1, Math.floor(d / 3));
      const candidates = dist.flatMap((k, v) =>
        v === from ? [] : want ? (k >= minHops ? [v] : []) : k === -1 ? [v] : [],
      );
      if (candidates.length === 0) continue;
      const to = rng.pick(candidates);
      const list = edges.map(([a, b]) => `${a}>${b}`).join(" ");
      const prompt = isTerse(d)
        ? `${list}. ${from} to ${to}?`
        : `A directed graph has the edges ${edges.map(([a, b]) => `${a}->${b}`).join(", ")}. Is there a path from node ${from} to node ${to} following the edge directions? Answer yes or no. ${FORMAT_HINT}`;
      return { prompt, reference: { answer: want ? "yes" : "no" }, measure: n };
    }
  },
  check(ref, answer) {
    const got = parseYesNo(answer);
    if (got === undefined) return incorrect("not_yes_or_no");
    return got === (ref.answer === "yes") ? correct() : incorrect("wrong_value");
  },
  wrongAnswers: (ref) => (ref.answer === "yes" ? ["no", "maybe", "yes, no"] : ["yes", "maybe", "no, yes"]),
});
