// `datascale verify` and `datascale reward` as a library: Rollout JSONL in, one Reward line per input line out,
// in input order. A malformed line becomes an `invalid` reward naming the file and line;
// the stream goes on.
import type { Readable } from "node:stream";
import { invalidReward } from "../core/rewards.ts";
import { type Reward, type RewardFn, Rollout, VERDICTS, type Verdict } from "../core/schemas.ts";
import { JsonlWriter, readJsonl } from "../io/jsonl.ts";
import { Progress } from "../io/progress.ts";

export interface ScoreSummary {
  total: number;
  byVerdict: Record<Verdict, number>;
  byDomain: Record<string, Record<Verdict, number>>;
  seconds: number;
  perSecond: number;
  /** Score mean over rewards that are not `invalid`/`error`. */
  meanScore: number;
}

export interface ScoreStreamOptions {
  input: string | Readable;
  output: string | NodeJS.WritableStream;
  rewardFn: RewardFn;
  /** Calls into rewardFn in flight at once (default 8). */
  maxInFlight?: number;
  /** Rollouts per call into rewardFn. */
  chunkSize?: number;
  /** Stop at the first malformed line instead of writing an `invalid` reward for it. */
  failFast?: boolean;
  name?: string;
  progress?: Progress;
}

function emptyCounts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

export async function scoreStream(options: ScoreStreamOptions): Promise<ScoreSummary> {
  const { rewardFn } = options;
  const chunkSize = options.chunkSize ?? 256;
  const maxInFlight = options.maxInFlight ?? 8;
  const writer = new JsonlWriter(options.output);
  const progress = options.progress ?? new Progress("score");
  const summary: ScoreSummary = {
    total: 0,
    byVerdict: emptyCounts(),
    byDomain: {},
    seconds: 0,
    perSecond: 0,
    meanScore: 0,
  };
  let scored = 0;
  let scoreSum = 0;

  // A chunk holds, per input line, either a decided reward (a bad line) or a rollout.
  type Slot = { reward: Reward; domain: string } | { rollout: Rollout; domain: string };
  type Done = { rewards: Reward[]; domains: string[] };
  const inflight: Promise<Done>[] = [];
  let slots: Slot[] = [];

  const flushChunk = (): void => {
    const chunk = slots;
    slots = [];
    const rollouts = chunk.flatMap((s) => ("rollout" in s ? [s.rollout] : []));
    inflight.push(
      rewardFn(rollouts).then((rewards) => {
        let k = 0;
        return {
          rewards: chunk.map((s) => ("rollout" in s ? (rewards[k++] as Reward) : s.reward)),
          domains: chunk.map((s) => s.domain),
        };
      }),
    );
  };
  const drainOne = async (): Promise<void> => {
    const { rewards, domains } = await (inflight.shift() as Promise<Done>);
    for (let i = 0; i < rewards.length; i++) {
      const r = rewards[i] as Reward;
      await writer.write(r);
      summary.total++;
      summary.byVerdict[r.verdict]++;
      const domain = domains[i] as string;
      summary.byDomain[domain] ??= emptyCounts();
      (summary.byDomain[domain] as Record<Verdict, number>)[r.verdict]++;
      if (r.verdict !== "invalid" && r.verdict !== "error") {
        scored++;
        scoreSum += r.score;
      }
    }
    progress.add(rewards.length);
  };

  const name = options.name ?? (typeof options.input === "string" ? options.input : "<stdin>");
  for await (const item of readJsonl(options.input, { schema: Rollout, name })) {
    if (item.ok) {
      slots.push({ rollout: item.value, domain: item.value.domain });
    } else {
      if (options.failFast) throw new Error(item.error);
      const reward = invalidReward(item.id ?? `line:${item.line}`, "datascale:input", item.error, {
        line: item.line,
      });
      slots.push({ reward, domain: "(malformed)" });
    }
    if (slots.length >= chunkSize) {
      flushChunk();
      if (inflight.length >= maxInFlight) await drainOne();
    }
  }
  if (slots.length > 0) flushChunk();
  while (inflight.length > 0) await drainOne();
  await writer.close();
  progress.done();
  summary.seconds = progress.elapsedSeconds;
  summary.perSecond = summary.total / Math.max(1e-9, summary.seconds);
  summary.meanScore = scored > 0 ? scoreSum / scored : 0;
  return summary;
}

export function formatSummary(s: ScoreSummary): string {
  const lines = [`scored ${s.total} rollouts in ${s.seconds.toFixed(2)} s (${s.perSecond.toFixed(0)}/s)`];
  const cols = VERDICTS.filter((v) => s.byVerdict[v] > 0);
  lines.push(`  ${"domain".padEnd(14)}${cols.map((c) => c.padStart(11)).join("")}`);
  for (const [domain, counts] of Object.entries(s.byDomain).sort()) {
    lines.push(`  ${domain.padEnd(14)}${cols.map((c) => String(counts[c]).padStart(11)).join("")}`);
  }
  lines.push(`  ${"all".padEnd(14)}${cols.map((c) => String(s.byVerdict[c]).padStart(11)).join("")}`);
  lines.push(`  mean score (judged rollouts): ${s.meanScore.toFixed(4)}`);
  return `${lines.join("\n")}\n`;
}
