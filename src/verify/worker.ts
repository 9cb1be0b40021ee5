// A verification worker: runs verifiers on batches of rollouts. Before each synchronous
// call it stamps (batch, index, start time) into shared memory so the pool's watchdog can
// kill it if a verifier runs away — the hard backstop behind each verifier's own budget.
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage } from "../core/errors.ts";
import { errorReward } from "../core/rewards.ts";
import type { Reward, Rollout } from "../core/schemas.ts";
import { VerifierRegistry, verifierDomain } from "./registry.ts";
import type { Verifier } from "./types.ts";

export interface WorkerInit {
  plugins: string[];
  timeBudgetMs: number;
  /** Budgets for domains whose work is slower than the default (code compiles and runs programs). */
  domainBudgetsMs: Record<string, number>;
  /** Float64Array(4): [batch, index, startedAtEpochMs or 0 when idle, this thread's CPU µs at the start]. */
  watch: SharedArrayBuffer;
}
export type ToWorker = { type: "batch"; batch: number; items: Rollout[] };
export type FromWorker =
  | { type: "ready"; domains: string[] }
  | { type: "fatal"; message: string }
  | { type: "done"; batch: number; rewards: Reward[] };

const port = parentPort;
if (port === null) throw new Error("verify/worker.ts must run as a worker thread");
const init = workerData as WorkerInit;
const watch = new Float64Array(init.watch);
const registry = new VerifierRegistry(init.plugins);
const verifiers = new Map<string, Verifier | undefined>();
let known: string[] = [];

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown })?.then === "function";
}

async function runBatch(batch: number, items: Rollout[]): Promise<Reward[]> {
  const rewards: Reward[] = new Array(items.length);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < items.length; i++) {
    const rollout = items[i] as Rollout;
    const domain = verifierDomain(rollout);
    if (!verifiers.has(domain)) verifiers.set(domain, await registry.get(domain));
    const verifier = verifiers.get(domain);
    if (verifier === undefined) {
      // The data names a domain no verifier serves: a permanent error of the request (4xx),
      // not a reward of 0 for the response.
      rewards[i] = errorReward(
        rollout.id,
        "datascale:verify",
        "unknown_domain",
        `domain: no verifier for '${domain}' (known: ${known.join(", ") || "none"})`,
      );
      continue;
    }
    watch[0] = batch;
    watch[1] = i;
    const cpu = process.threadCpuUsage();
    watch[3] = cpu.user + cpu.system;
    watch[2] = Date.now();
    try {
      const out = verifier.verify(rollout, {
        timeBudgetMs: init.domainBudgetsMs[domain] ?? init.timeBudgetMs,
      });
      if (isPromise(out)) {
        pending.push(
          out.then(
            (r) => {
              rewards[i] = r;
            },
            (e: unknown) => {
              rewards[i] = errorReward(rollout.id, verifier.source, "verifier_crash", errorMessage(e));
            },
          ),
        );
      } else {
        rewards[i] = out;
      }
    } catch (e) {
      rewards[i] = errorReward(rollout.id, verifier.source, "verifier_crash", errorMessage(e));
    }
  }
  watch[2] = 0;
  await Promise.all(pending);
  return rewards;
}

registry.domains().then(
  (domains) => {
    known = domains;
    port.postMessage({ type: "ready", domains } satisfies FromWorker);
    port.on("message", (msg: ToWorker) => {
      runBatch(msg.batch, msg.items).then(
        (rewards) => port.postMessage({ type: "done", batch: msg.batch, rewards } satisfies FromWorker),
        (e: unknown) => port.postMessage({ type: "fatal", message: errorMessage(e) } satisfies FromWorker),
      );
    });
  },
  (e: unknown) => port.postMessage({ type: "fatal", message: errorMessage(e) } satisfies FromWorker),
);
