// Pre-PPO prompt selection, end to end:
//   pass 1 (score.ts)  pool → K responses → RewardFn → per-prompt mean/variance → scores log
//   cut (cut.ts)       scores log → per-domain normalisation → one cut keeping the lowest `keep`
//   pass 2 (here)      original set, then the pool zipped with the scores log → selected JSONL
// Memory is bounded by per-domain summaries, not by the pool; a kill during pass 1 resumes
// from the scores log, and pass 2 writes to a temporary file renamed at the end.

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { Task } from "../core/schemas.ts";
import { parseJsonlLine, readJsonl } from "../io/jsonl.ts";
import { AppendLog, RunDir, writeFileAtomic, writeJsonAtomic } from "../io/rundir.ts";
import {
  type CutRule,
  computeCut,
  type DomainStats,
  DomainStatsBuilder,
  domainStats,
  normalise,
  rawCut,
} from "./cut.ts";
import { lineBatches } from "./lines.ts";
import { formatReport, type SelectionReport } from "./report.ts";
import { lastScoredLine, type ScoreSummary, scorePool } from "./score.ts";
import {
  BAD,
  F_DOMAIN,
  F_HASH,
  F_LINE,
  F_MEAN,
  F_N,
  F_STATUS,
  F_VAR,
  FIELDS,
  orUndefined,
  PASSTHROUGH,
  SCORED,
  scoreCacheBlocks,
} from "./scorecache.ts";
import { PoolRecord, runKey, type SelectOptions } from "./types.ts";

export const DEFAULT_UNFILTERED = ["math", "code"] as const;

export interface SelectResult {
  report: SelectionReport;
  score: ScoreSummary;
  resumed: boolean;
  /** False when `stopAfter` stopped pass 1 early: nothing was selected yet. */
  complete: boolean;
}

function withSelection(
  task: Record<string, unknown>,
  evidence: Record<string, unknown>,
): Record<string, unknown> {
  const { responses: _, ...rest } = task;
  const meta = (rest.meta as Record<string, unknown> | undefined) ?? {};
  return { ...rest, meta: { ...meta, selection: evidence } };
}

export async function selectPrompts(o: SelectOptions): Promise<SelectResult> {
  if (!(o.keep >= 0 && o.keep <= 1)) throw new RangeError(`--keep must be in [0, 1], got ${o.keep}`);
  if (!(Number.isInteger(o.samples) && o.samples > 0))
    throw new RangeError(`--samples must be a positive integer`);
  const poolSize = (await stat(o.pool)).size;
  const { dir, resumed } = await RunDir.open(o.runDir, {
    kind: "select",
    key: runKey(o, poolSize),
    resume: o.resume,
    files: ["scores.jsonl", "scores.bin", "progress.json", "report.json", "report.md"],
  });
  const scoresPath = dir.file("scores.jsonl");
  const startAfter = resumed ? await lastScoredLine(scoresPath) : 0;
  if (startAfter > 0) o.log?.(`select: resuming after pool line ${startAfter}`);
  const seed = o.seed ?? 0;
  const cache = { path: dir.file("scores.bin"), seed };
  // With an empty log, pass 1 sees every record, so it builds the statistics as it goes;
  // after a resume, the records written before the kill are read back from the log.
  const builder =
    startAfter === 0 ? await DomainStatsBuilder.create(cache, o.minVariance, o.exactCapacity) : undefined;
  const log = await AppendLog.open(scoresPath);
  let score: ScoreSummary;
  try {
    score = await scorePool(o, log, startAfter, builder === undefined ? undefined : (r) => builder.add(r));
  } finally {
    await log.close();
    await builder?.finish();
  }
  await writeJsonAtomic(dir.file("progress.json"), { pass1: score.stopped ? "stopped" : "done", ...score });
  if (score.stopped) {
    await rm(cache.path, { force: true });
    return { report: emptyReport(o), score, resumed, complete: false };
  }

  const cachePath = cache.path;
  const stats =
    builder?.stats ?? (await domainStats(scoresPath, o.minVariance, o.exactCapacity, resumed, cache));
  const rule = await computeCut(cachePath, stats, {
    normalisation: o.normalisation,
    keep: o.keep,
    seed,
    ...(o.minVariance === undefined ? {} : { minVariance: o.minVariance }),
    ...(o.exactCapacity === undefined ? {} : { exactCapacity: o.exactCapacity }),
  });
  const report = await writeSelection(o, cachePath, stats, rule);
  await rm(cachePath, { force: true });
  await writeJsonAtomic(dir.file("report.json"), report);
  await writeFileAtomic(dir.file("report.md"), formatReport(report));
  await writeJsonAtomic(dir.file("progress.json"), { pass1: "done", pass2: "done", ...score });
  return { report, score, resumed, complete: true };
}

function emptyReport(o: SelectOptions): SelectionReport {
  return {
    pool: o.pool,
    out: o.out,
    normalisation: o.normalisation,
    keep: o.keep,
    minVariance: o.minVariance ?? null,
    unfiltered: [...o.unfiltered],
    cut: null,
    original: 0,
    kept: 0,
    domains: [],
    badLines: 0,
  };
}

/**
 * Selection evidence for a kept line, or undefined when the line is dropped. `b[at…]` is
 * the line's record in the score cache; `byIndex` the domains in cache index order.
 */
function decide(
  o: SelectOptions,
  b: Float64Array,
  at: number,
  byIndex: readonly DomainStats[],
  rule: CutRule,
): Record<string, unknown> | undefined {
  const status = b[at + F_STATUS];
  if (status === PASSTHROUGH) return { origin: "new", status: "passthrough", reason: "unfiltered domain" };
  const mean = b[at + F_MEAN]!;
  const d = b[at + F_DOMAIN]!;
  const hash = b[at + F_HASH]!;
  if (status !== SCORED || Number.isNaN(mean) || d < 0 || hash < 0) return undefined;
  const variance = orUndefined(b[at + F_VAR]!);
  if (o.minVariance !== undefined && (variance ?? 0) < o.minVariance) return undefined;
  const ds = byIndex[d]!;
  const n = normalise(o.normalisation, ds, mean);
  if (!(rule.target > 0 && (n < rule.cut || (n === rule.cut && hash <= rule.tieHashCut)))) return undefined;
  return {
    origin: "new",
    status: "selected",
    samples: orUndefined(b[at + F_N]!),
    mean,
    variance,
    normalisation: o.normalisation,
    normalised: n,
    cut: rule.cut,
    keep: o.keep,
    domainMean: ds.mean,
    domainStd: ds.std,
    domainCandidates: ds.candidates,
    ...(n === rule.cut ? { tieBreak: true } : {}),
  };
}

/** Characters of output gathered before a write. */
const OUT_CHUNK = 1 << 20;

async function writeSelection(
  o: SelectOptions,
  cachePath: string,
  stats: Map<string, DomainStats>,
  rule: CutRule,
): Promise<SelectionReport> {
  const tmp = `${o.out}.partial`;
  // Output lines are gathered into ~1 MB writes: one awaited write per kept line cost a
  // promise and a stream write each.
  const stream = createWriteStream(tmp);
  let text = "";
  const writeOut = async (): Promise<void> => {
    const t = text;
    text = "";
    if (t !== "" && !stream.write(t)) await once(stream, "drain");
  };
  const closeOut = async (): Promise<void> => {
    const done = once(stream, "finish");
    stream.end();
    await done;
  };
  const report = emptyReport(o);
  report.cut = {
    normalised: Number.isNaN(rule.cut) ? null : rule.cut,
    target: rule.target,
    candidates: rule.candidates,
    tiesKept: Math.max(0, Math.min(rule.atCut, rule.target - rule.below)),
    atCut: rule.atCut,
    exact: rule.exact,
  };
  const keptByDomain = new Map<string, number>();
  const scores = scoreCacheBlocks(cachePath);
  try {
    if (o.original !== undefined) {
      for await (const item of readJsonl(o.original, { schema: Task })) {
        if (!item.ok) {
          o.log?.(`select: skipping ${item.error}`);
          report.badLines++;
          continue;
        }
        text += `${JSON.stringify(withSelection(item.value, { origin: "original" }))}\n`;
        if (text.length >= OUT_CHUNK) await writeOut();
        report.original++;
      }
    }
    const byIndex = [...stats.values()];
    let buf: Float64Array = new Float64Array(0);
    let at = 0;
    // The score cache is in pool order: advance it to the pool line at hand. Returns the
    // record's offset in `buf`, or -1 when the line has none.
    const scoreFor = async (line: number): Promise<number> => {
      for (;;) {
        while (at < buf.length && buf[at + F_LINE]! < line) at += FIELDS;
        if (at < buf.length) return buf[at + F_LINE] === line ? at : -1;
        const next = await scores.next();
        if (next.done) return -1;
        buf = next.value;
        at = 0;
      }
    };
    // The decision needs only the score record, so a line is parsed only when it is kept.
    for await (const chunk of lineBatches(o.pool)) {
      for (let i = 0; i < chunk.texts.length; i++) {
        const line = chunk.first + i;
        const poolText = chunk.texts[i]!;
        if (poolText === null || poolText.trim() === "") {
          if (poolText === null) report.badLines++;
          continue;
        }
        const s = at < buf.length && buf[at + F_LINE] === line ? at : await scoreFor(line);
        if (s === -1) throw new Error(`${o.pool}:${line}: no score recorded; rerun with --resume`);
        if (buf[s + F_STATUS] === BAD) {
          report.badLines++;
          continue;
        }
        const evidence = decide(o, buf, s, byIndex, rule);
        if (evidence === undefined) continue;
        const item = parseJsonlLine(poolText, line, o.pool, PoolRecord);
        if (item === undefined || !item.ok) {
          throw new Error(`${o.pool}:${line}: changed since it was scored; start the selection over`);
        }
        const task = item.value;
        keptByDomain.set(task.domain, (keptByDomain.get(task.domain) ?? 0) + 1);
        report.kept++;
        text += `${JSON.stringify(withSelection(task, evidence))}\n`;
        if (text.length >= OUT_CHUNK) await writeOut();
      }
    }
    await writeOut();
    await closeOut();
    await rename(tmp, o.out);
  } catch (e) {
    stream.destroy();
    if (!stream.closed) await once(stream, "close");
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await scores.return(undefined);
  }
  for (const [domain, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    const cut = rawCut(rule, s);
    report.domains.push({
      domain,
      unfiltered: o.unfiltered.includes(domain),
      scored: s.scored,
      candidates: s.candidates,
      lowVariance: s.lowVariance,
      errors: s.errors,
      passthrough: s.passthrough,
      kept: keptByDomain.get(domain) ?? 0,
      mean: s.candidates > 0 ? s.mean : null,
      std: s.candidates > 0 ? s.std : null,
      min: s.candidates > 0 ? s.min : null,
      max: s.candidates > 0 ? s.max : null,
      rawCut: Number.isNaN(cut) ? null : cut,
      histogram: s.histogram,
    });
  }
  return report;
}
