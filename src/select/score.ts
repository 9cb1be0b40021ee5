// Pass 1 of selection: stream the pool, score K responses per prompt through the RewardFn
// with several calls in flight, and append one ScoreRecord per pool line, in pool order,
// to the run directory. Resuming skips every line already in the log.

import { open } from "node:fs/promises";
import { DataScaleError, errorMessage } from "../core/errors.ts";
import type { Reward, Rollout } from "../core/schemas.ts";
import { parseJsonlLine } from "../io/jsonl.ts";
import { Progress } from "../io/progress.ts";
import { type AppendLog, repairAppendLog } from "../io/rundir.ts";
import { lineBatches } from "./lines.ts";
import { PoolRecord, ScoreRecord, type SelectOptions } from "./types.ts";

/** The last pool line recorded in a (repaired) scores log, 0 when empty; reads only its tail. */
export async function lastScoredLine(path: string): Promise<number> {
  const size = await repairAppendLog(path);
  if (size === 0) return 0;
  const fh = await open(path, "r");
  try {
    const n = Math.min(size, 1 << 16);
    const buf = Buffer.alloc(n);
    await fh.read(buf, 0, n, size - n);
    const text = buf.toString("utf8").replace(/\n$/, "");
    const last = text.slice(text.lastIndexOf("\n") + 1);
    const item = parseJsonlLine(last, 0, path, ScoreRecord);
    if (item === undefined || !item.ok) throw new Error(`scores log is damaged at its end: ${path}`);
    return item.value.line;
  } finally {
    await fh.close();
  }
}

export interface ScoreSummary {
  lines: number;
  scored: number;
  skippedResumed: number;
  passthrough: number;
  bad: number;
  errors: number;
  seconds: number;
  stopped: boolean;
}

interface Pending {
  line: number;
  record: PoolRecord;
}

/** Population mean and variance of a prompt's sample scores. */
export function aggregate(scores: readonly number[]): { mean: number; var: number } {
  if (scores.length === 0) return { mean: Number.NaN, var: Number.NaN };
  let mean = 0;
  for (const s of scores) mean += s;
  mean /= scores.length;
  let v = 0;
  for (const s of scores) v += (s - mean) ** 2;
  return { mean, var: v / scores.length };
}

async function scoreBatch(all: readonly Pending[], o: SelectOptions): Promise<ScoreRecord[]> {
  const k = o.samples;
  const out: ScoreRecord[] = [];
  const batch: Pending[] = [];
  const responses: (string[] | undefined)[] = [];
  for (const p of all) {
    const have = p.record.responses?.slice(0, k);
    if ((have?.length ?? 0) < k && o.sample === undefined) {
      out.push({
        line: p.line,
        status: "bad",
        id: p.record.id,
        domain: p.record.domain,
        message: `${o.pool}:${p.line}: needs ${k} responses, has ${have?.length ?? 0}, and no policy was given`,
      });
    } else {
      batch.push(p);
      responses.push(have);
    }
  }
  const lacking = batch.filter((_, i) => (responses[i]?.length ?? 0) < k);
  if (lacking.length > 0 && o.sample !== undefined) {
    const drawn = await o.sample(
      lacking.map((p) => p.record),
      k,
    );
    let j = 0;
    for (let i = 0; i < batch.length; i++) {
      if ((responses[i]?.length ?? 0) < k) responses[i] = drawn[j++]?.slice(0, k);
    }
  }
  const rollouts: Rollout[] = [];
  const owner: number[] = [];
  batch.forEach((p, i) => {
    const { responses: _, ...task } = p.record;
    for (const response of responses[i] ?? []) {
      rollouts.push({ ...task, response });
      owner.push(i);
    }
  });
  // A failed call is an infrastructure failure: the run stops (with everything before
  // this batch in the log) so that `--resume` scores the batch again, rather than writing
  // error records that a resumed run would never retry.
  let rewards: Reward[];
  try {
    rewards = await o.reward(rollouts);
  } catch (e) {
    const lines = `${batch[0]?.line}–${batch[batch.length - 1]?.line}`;
    throw new DataScaleError(
      "reward_failed",
      `${o.pool}:${lines}: reward function failed: ${errorMessage(e)}; rerun with --resume to continue`,
      { cause: e },
    );
  }
  if (rewards.length !== rollouts.length) {
    throw new Error(`reward function returned ${rewards.length} rewards for ${rollouts.length} rollouts`);
  }
  const perPrompt: number[][] = batch.map(() => []);
  const errors: string[][] = batch.map(() => []);
  rewards.forEach((r, j) => {
    const i = owner[j]!;
    if (r.verdict === "error") errors[i]!.push(r.error?.message ?? "error verdict");
    else perPrompt[i]!.push(r.score);
  });
  return out.concat(
    batch.map((p, i): ScoreRecord => {
      const errs = errors[i]!;
      if (errs.length > 0) {
        return {
          line: p.line,
          status: "error",
          id: p.record.id,
          domain: p.record.domain,
          message: `${errs.length} of ${k} samples had an error verdict: ${errs[0]}`,
        };
      }
      if (perPrompt[i]!.length < k) {
        return {
          line: p.line,
          status: "bad",
          id: p.record.id,
          domain: p.record.domain,
          message: `${o.pool}:${p.line}: got ${perPrompt[i]!.length} of ${k} samples from the policy`,
        };
      }
      const { mean, var: variance } = aggregate(perPrompt[i]!);
      return {
        line: p.line,
        status: "scored",
        id: p.record.id,
        domain: p.record.domain,
        n: perPrompt[i]!.length,
        mean,
        var: variance,
      };
    }),
  );
}

/**
 * Runs pass 1, appending to `log` every pool line after `startAfter`; `onRecord` sees each
 * record appended, in log order.
 */
export async function scorePool(
  o: SelectOptions,
  log: AppendLog,
  startAfter: number,
  onRecord?: (r: ScoreRecord) => Promise<void> | undefined,
): Promise<ScoreSummary> {
  const batchSize = o.batchPrompts ?? 32;
  const maxInFlight = o.concurrency ?? 4;
  const unfiltered = new Set(o.unfiltered);
  const progress = new Progress("select: scoring", o.progress === undefined ? {} : { enabled: o.progress });
  const summary: ScoreSummary = {
    lines: 0,
    scored: 0,
    skippedResumed: 0,
    passthrough: 0,
    bad: 0,
    errors: 0,
    seconds: 0,
    stopped: false,
  };
  // Each slot resolves to the records of a run of consecutive pool lines (those decided
  // without scoring ride along with the batch scored), so writing the slots in order keeps
  // the log in pool order whatever order the reward calls finish in. At most
  // `maxInFlight` slots are pending, which bounds memory.
  const inflight: Promise<ScoreRecord[]>[] = [];
  let ready: ScoreRecord[] = [];
  let batch: Pending[] = [];
  const emit = async (records: ScoreRecord[]): Promise<void> => {
    for (const r of records) {
      if (r.status === "scored") summary.scored++;
      else if (r.status === "passthrough") summary.passthrough++;
      else if (r.status === "bad") {
        summary.bad++;
        o.log?.(`select: ${r.message}`);
      } else {
        summary.errors++;
        o.log?.(`select: line ${r.line} (${String(r.id)}): ${r.message}`);
      }
      await log.append(r);
      const pending = onRecord?.(r);
      if (pending !== undefined) await pending;
    }
    progress.add(records.length);
  };
  const cut = (): void => {
    const decided = ready;
    ready = [];
    if (batch.length === 0) {
      inflight.push(Promise.resolve(decided));
      return;
    }
    const b = batch;
    batch = [];
    inflight.push(scoreBatch(b, o).then((scored) => [...decided, ...scored].sort((x, y) => x.line - y.line)));
  };
  const drain = async (limit: number): Promise<void> => {
    while (inflight.length > limit) await emit(await inflight.shift()!);
  };

  const start = performance.now();
  let newlyScored = 0;
  try {
    outer: for await (const chunk of lineBatches(o.pool)) {
      for (let i = 0; i < chunk.texts.length; i++) {
        const line = chunk.first + i;
        const text = chunk.texts[i]!;
        if (line <= startAfter) {
          summary.skippedResumed++;
          continue;
        }
        if (text === null) {
          summary.lines++;
          ready.push({ line, status: "bad", message: `${o.pool}:${line}: line too long` });
          continue;
        }
        const item = parseJsonlLine(text, line, o.pool, PoolRecord);
        if (item === undefined) continue;
        summary.lines++;
        if (!item.ok) {
          const bad: ScoreRecord = { line, status: "bad", message: item.error };
          if (item.id !== undefined) bad.id = item.id;
          ready.push(bad);
        } else if (unfiltered.has(item.value.domain)) {
          ready.push({ line, status: "passthrough", id: item.value.id, domain: item.value.domain });
        } else {
          batch.push({ line, record: item.value });
          newlyScored++;
        }
        if (batch.length >= batchSize || ready.length >= batchSize) {
          cut();
          await drain(maxInFlight - 1);
        }
        if (o.stopAfter !== undefined && newlyScored >= o.stopAfter) {
          summary.stopped = true;
          break outer;
        }
      }
    }
    cut();
    await drain(0);
    await log.flush();
  } finally {
    // After a failure, slots still in flight are abandoned; keep their rejections quiet.
    for (const pending of inflight) pending.catch(() => undefined);
    progress.done();
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
