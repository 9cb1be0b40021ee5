// Runs verifiers on all cores. Rollouts go out in batches to worker threads; rewards come
// back in input order. A watchdog reads each worker's shared (batch, index, start) stamp
// and terminates a worker whose verifier overruns the hard limit: that rollout gets an
// `error` reward, the rest of its batch is re-queued, and a fresh worker takes its place.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DataScaleError } from "../core/errors.ts";
import { errorReward } from "../core/rewards.ts";
import type { Reward, RewardFn, Rollout } from "../core/schemas.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./worker.ts";

export interface VerifyPoolOptions {
  /** Worker threads; default: all cores. */
  workers?: number;
  /** Verifier plugin modules (see registry.ts). */
  plugins?: string[];
  /** Budget passed to each verifier call. */
  timeBudgetMs?: number;
  /** Per-domain budgets overriding `timeBudgetMs`; default gives `code` 60 s (compile + every test). */
  domainBudgetsMs?: Record<string, number>;
  /** A synchronous verifier call running longer than this is killed; default 4× budget + 1 s. */
  hardTimeoutMs?: number;
  /** Rollouts per message to a worker. */
  batchSize?: number;
}

interface Request {
  results: (Reward | undefined)[];
  remaining: number;
  resolve: (rewards: Reward[]) => void;
}

interface Unit {
  request: Request;
  rollouts: Rollout[];
  /** Position of each rollout in request.results. */
  positions: number[];
}

interface Slot {
  worker: Worker;
  watch: Float64Array;
  unit: Unit | undefined;
  batch: number;
}

export const DEFAULT_DOMAIN_BUDGETS_MS: Readonly<Record<string, number>> = { code: 60_000 };

const WORKER_URL = new URL("./worker.ts", import.meta.url);

export class VerifyPool {
  readonly size: number;
  readonly #opts: Required<Omit<VerifyPoolOptions, "workers">>;
  readonly #slots: Slot[] = [];
  readonly #queue: Unit[] = [];
  readonly #ready: Promise<string[]>;
  #nextBatch = 1;
  #closed = false;
  #fatal: string | undefined;
  readonly #watchdog: NodeJS.Timeout;
  /** Rollouts killed by the watchdog so far. */
  killed = 0;

  constructor(options: VerifyPoolOptions = {}) {
    this.size = Math.max(1, options.workers ?? availableParallelism());
    const timeBudgetMs = options.timeBudgetMs ?? 2000;
    this.#opts = {
      plugins: options.plugins ?? [],
      timeBudgetMs,
      domainBudgetsMs: { ...DEFAULT_DOMAIN_BUDGETS_MS, ...options.domainBudgetsMs },
      hardTimeoutMs: options.hardTimeoutMs ?? timeBudgetMs * 4 + 1000,
      batchSize: options.batchSize ?? 32,
    };
    const readies: Promise<string[]>[] = [];
    for (let i = 0; i < this.size; i++) readies.push(this.#spawn());
    this.#ready = Promise.all(readies).then((lists) => lists[0] ?? []);
    this.#ready.catch(() => undefined);
    this.#watchdog = setInterval(() => this.#checkTimeouts(), Math.min(100, this.#opts.hardTimeoutMs / 4));
    this.#watchdog.unref();
  }

  /** Resolves with the served domains once every worker has loaded, or rejects with why not. */
  ready(): Promise<string[]> {
    return this.#ready;
  }

  /** A RewardFn over this pool. */
  get rewardFn(): RewardFn {
    return (rollouts) => this.verify(rollouts);
  }

  verify(rollouts: readonly Rollout[]): Promise<Reward[]> {
    if (this.#closed) return Promise.reject(new DataScaleError("closed", "verify pool is closed"));
    if (rollouts.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const request: Request = { results: new Array(rollouts.length), remaining: rollouts.length, resolve };
      for (let start = 0; start < rollouts.length; start += this.#opts.batchSize) {
        const end = Math.min(rollouts.length, start + this.#opts.batchSize);
        const positions: number[] = [];
        for (let i = start; i < end; i++) positions.push(i);
        this.#queue.push({ request, rollouts: rollouts.slice(start, end), positions });
      }
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
    this.#slots.length = 0;
  }

  #spawn(): Promise<string[]> {
    const watch = new SharedArrayBuffer(3 * 8);
    const init: WorkerInit = {
      plugins: this.#opts.plugins,
      timeBudgetMs: this.#opts.timeBudgetMs,
      domainBudgetsMs: this.#opts.domainBudgetsMs,
      watch,
    };
    const worker = new Worker(WORKER_URL, { workerData: init });
    const slot: Slot = { worker, watch: new Float64Array(watch), unit: undefined, batch: 0 };
    this.#slots.push(slot);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on("message", (msg: FromWorker) => {
        if (msg.type === "ready") {
          started = true;
          resolve(msg.domains);
          this.#pump();
        } else if (msg.type === "fatal") {
          this.#fatal = msg.message;
          if (!started) reject(new DataScaleError("verifier_load", msg.message));
          this.#failSlot(slot, "verifier_crash", msg.message);
        } else if (msg.type === "done" && slot.unit !== undefined && msg.batch === slot.batch) {
          const unit = slot.unit;
          slot.unit = undefined;
          for (const [k, r] of msg.rewards.entries()) this.#settle(unit, k, r);
          this.#pump();
        }
      });
      worker.on("error", (e) => {
        if (!started) reject(new DataScaleError("verifier_load", e.message));
        this.#failSlot(slot, "worker_crash", e.message);
      });
      worker.on("exit", (code) => {
        if (!this.#closed && this.#slots.includes(slot))
          this.#failSlot(slot, "worker_crash", `worker exited (${code})`);
      });
    });
  }

  #settle(unit: Unit, k: number, reward: Reward): void {
    const pos = unit.positions[k] as number;
    const req = unit.request;
    if (req.results[pos] !== undefined) return;
    req.results[pos] = reward;
    if (--req.remaining === 0) req.resolve(req.results as Reward[]);
  }

  /** Drops a slot whose worker died or hung; the rollout it was on gets an error, the rest go back to the queue. */
  #failSlot(slot: Slot, code: string, message: string): void {
    const i = this.#slots.indexOf(slot);
    if (i === -1) return;
    this.#slots.splice(i, 1);
    const unit = slot.unit;
    slot.unit = undefined;
    void slot.worker.terminate();
    if (unit !== undefined) {
      const stuck = slot.watch[2] !== 0 && slot.watch[0] === slot.batch ? (slot.watch[1] as number) : -1;
      const rest: number[] = [];
      unit.rollouts.forEach((r, k) => {
        if (k === stuck || this.#fatal !== undefined)
          this.#settle(unit, k, errorReward(r.id, `rtv:${r.domain}`, code, message));
        else rest.push(k);
      });
      if (rest.length > 0) {
        this.#queue.unshift({
          request: unit.request,
          rollouts: rest.map((k) => unit.rollouts[k] as Rollout),
          positions: rest.map((k) => unit.positions[k] as number),
        });
      }
    }
    if (!this.#closed && this.#fatal === undefined) this.#spawn().catch(() => undefined);
    else this.#drainWithError(code, message);
  }

  #drainWithError(code: string, message: string): void {
    if (this.#slots.length > 0) return;
    for (const unit of this.#queue.splice(0)) {
      for (const [k, r] of unit.rollouts.entries()) {
        this.#settle(unit, k, errorReward(r.id, `rtv:${r.domain}`, code, message));
      }
    }
  }

  #checkTimeouts(): void {
    const now = Date.now();
    for (const slot of [...this.#slots]) {
      const started = slot.watch[2] as number;
      if (slot.unit !== undefined && started !== 0 && now - started > this.#opts.hardTimeoutMs) {
        this.killed++;
        this.#failSlot(slot, "timeout", `verifier exceeded the hard limit of ${this.#opts.hardTimeoutMs} ms`);
      }
    }
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.unit !== undefined) continue;
      const unit = this.#queue.shift() as Unit;
      slot.unit = unit;
      slot.batch = this.#nextBatch++;
      slot.watch[2] = 0;
      slot.worker.postMessage({ type: "batch", batch: slot.batch, items: unit.rollouts } satisfies ToWorker);
    }
  }
}
