// A deterministic sampler over a schedule: the same tasks, schedule and seed give the same
// batches, in the same order, on any machine. Each slot of a batch draws a domain by the
// stage's weights, then the next task of that domain's own shuffled order (reshuffled when
// exhausted, so every task is seen once per pass over its domain).

import { DataScaleError } from "../core/errors.ts";
import type { Task } from "../core/schemas.ts";
import { type Schedule, type Stage, stageSamples } from "./schedule.ts";

/** SplitMix32-style PRNG: small, fast and good enough for shuffles and weighted draws. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

export interface Batch {
  stage: string;
  stageIndex: number;
  /** Global step, counted from 0 across stages. */
  step: number;
  /** Step within the stage. */
  stageStep: number;
  tasks: Task[];
}

class DomainCursor {
  readonly #tasks: readonly Task[];
  readonly #rand: () => number;
  #order: Uint32Array;
  #next = 0;
  constructor(tasks: readonly Task[], rand: () => number) {
    this.#tasks = tasks;
    this.#rand = rand;
    this.#order = this.#shuffle();
  }
  #shuffle(): Uint32Array {
    const o = new Uint32Array(this.#tasks.length);
    for (let i = 0; i < o.length; i++) o[i] = i;
    for (let i = o.length - 1; i > 0; i--) {
      const j = Math.floor(this.#rand() * (i + 1));
      const t = o[i]!;
      o[i] = o[j]!;
      o[j] = t;
    }
    return o;
  }
  take(): Task {
    if (this.#next === this.#order.length) {
      this.#order = this.#shuffle();
      this.#next = 0;
    }
    return this.#tasks[this.#order[this.#next++]!]!;
  }
}

function stageWeights(stage: Stage, byDomain: ReadonlyMap<string, readonly Task[]>): [string, number][] {
  const weights: [string, number][] =
    stage.weights === undefined
      ? [...byDomain].map(([d, ts]) => [d, ts.length])
      : Object.entries(stage.weights).filter(([, w]) => w > 0);
  // A weighted domain without tasks is left out (the paper's stage 1 is math and code; a
  // task set with only math still has a stage 1); a stage left with nothing is an error.
  const usable = weights.filter(([d]) => (byDomain.get(d)?.length ?? 0) > 0);
  if (usable.length === 0) {
    throw new DataScaleError(
      "empty_stage",
      `stage '${stage.name}' weights ${weights.map(([d]) => `'${d}'`).join(", ")}, which have no tasks`,
    );
  }
  usable.sort(([a], [b]) => a.localeCompare(b));
  return usable;
}

export function groupByDomain(tasks: Iterable<Task>): Map<string, Task[]> {
  const m = new Map<string, Task[]>();
  for (const t of tasks) {
    let list = m.get(t.domain);
    if (list === undefined) {
      list = [];
      m.set(t.domain, list);
    }
    list.push(t);
  }
  return m;
}

/** Yields every batch of the schedule, stage after stage. */
export function* sampleSchedule(
  schedule: Schedule,
  byDomain: ReadonlyMap<string, readonly Task[]>,
): Generator<Batch> {
  const rand = rng(schedule.seed);
  const cursors = new Map<string, DomainCursor>();
  // Domains are visited in sorted order so that Map insertion order cannot change results.
  for (const d of [...byDomain.keys()].sort())
    cursors.set(d, new DomainCursor(byDomain.get(d)!, rng(schedule.seed ^ hash(d))));
  let step = 0;
  for (const [stageIndex, stage] of schedule.stages.entries()) {
    const weights = stageWeights(stage, byDomain);
    const total = weights.reduce((a, [, w]) => a + w, 0);
    let remaining = stageSamples(stage, schedule.batchSize);
    let stageStep = 0;
    while (remaining > 0) {
      const size = Math.min(schedule.batchSize, remaining);
      const tasks: Task[] = [];
      for (let i = 0; i < size; i++) {
        let u = rand() * total;
        let pick = weights[weights.length - 1]![0];
        for (const [d, w] of weights) {
          if (u < w) {
            pick = d;
            break;
          }
          u -= w;
        }
        tasks.push(cursors.get(pick)!.take());
      }
      yield { stage: stage.name, stageIndex, step, stageStep, tasks };
      remaining -= size;
      step++;
      stageStep++;
    }
  }
}

/**
 * The prompts of each step of a schedule over `tasks`, laid out up front (deterministic per
 * seed, so a resumed run sees the same prompts at the same steps); past the schedule's end
 * the last batch's stage continues. Throws when the schedule has no batches.
 */
export function promptsByStep(schedule: Schedule, tasks: readonly Task[]): (step: number) => readonly Task[] {
  const batches = [...sampleSchedule(schedule, groupByDomain(tasks))];
  if (batches.length === 0) throw new DataScaleError("bad_config", "the schedule has no batches");
  return (step) => batches[Math.min(step, batches.length - 1)]!.tasks;
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
