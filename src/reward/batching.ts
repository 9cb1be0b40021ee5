// Coalesces many small RewardFn calls into few large ones. Engines such as OpenRLHF send one
// request per sample; verifying each alone pays a worker round trip per sample. Calls made
// within the same turn of the event loop (or until `maxBatch`) go down as one batch.
// Coalescing must not couple requests: when a coalesced call fails, each request is
// retried on its own, so one request's failure is that request's alone.
import type { Reward, RewardFn, Rollout } from "../core/schemas.ts";

interface Waiting {
  rollouts: readonly Rollout[];
  resolve: (r: Reward[]) => void;
  reject: (e: unknown) => void;
}

export function batchingRewardFn(inner: RewardFn, options: { maxBatch?: number } = {}): RewardFn {
  const maxBatch = options.maxBatch ?? 1024;
  let waiting: Waiting[] = [];
  let size = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    size = 0;
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const w = batch[0] as Waiting;
      inner(w.rollouts).then(w.resolve, w.reject);
      return;
    }
    inner(batch.flatMap((w) => w.rollouts)).then(
      (rewards) => {
        let k = 0;
        for (const w of batch) {
          w.resolve(rewards.slice(k, k + w.rollouts.length));
          k += w.rollouts.length;
        }
      },
      () => {
        for (const w of batch) inner(w.rollouts).then(w.resolve, w.reject);
      },
    );
  };

  return (rollouts) =>
    new Promise((resolve, reject) => {
      waiting.push({ rollouts, resolve, reject });
      size += rollouts.length;
      if (size >= maxBatch) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
