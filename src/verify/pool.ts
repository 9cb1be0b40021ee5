// Runs verifiers on all cores. Rollouts go out in batches to worker threads; rewards come
// back in input order. A watchdog reads each worker's shared (batch, index, start, CPU)
// stamp and terminates a worker whose verifier has spent more than the hard limit of CPU
// time on one response — that is the response's doing, whatever the load, so it is that
// sample's final verdict (`invalid`, never a retryable error); the rest of its batch is
// re-queued and a fresh worker takes its place. A worker that dies on a response is given
// one more try on a fresh worker; dying twice on it is a final verdict too. One sample's
// failure never costs the other samples their rewards.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DataScaleError, settleFinal } from "../core/errors.ts";
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
  /** Least rollouts per message to a worker (default 32); a large call is cut into about two units per worker, at most 512 rollouts each. */
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
  /** Times a worker died on this unit (a re-queued rollout that killed a worker is alone in its unit). */
  crashes: number;
}

interface Slot {
  worker: Worker;
  watch: Float64Array;
  /** Units sent and not answered, by batch number (up to PIPELINE). */
  units: Map<number, Unit>;
  /** The watchdog is reading this worker's CPU time. */
  checking: boolean;
}

export const DEFAULT_DOMAIN_BUDGETS_MS: Readonly<Record<string, number>> = { code: 60_000 };

const WORKER_URL = new URL("./worker.ts", import.meta.url);

/**
 * Units a worker holds at once: it starts the next as soon as it finishes one, instead of
 * idling for a round trip through a main thread that may be busy with network I/O (under
 * overload, one event-loop turn can take tens of milliseconds).
 */
const PIPELINE = 2;

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
      // Big units for big calls: fewer round trips through the main thread, which under load
      // is the bottleneck (docs/benchmarks.md, bench:serve-overload).
      const size = Math.max(
        this.#opts.batchSize,
        Math.min(512, Math.ceil(rollouts.length / (2 * this.size))),
      );
      for (let start = 0; start < rollouts.length; start += size) {
        const end = Math.min(rollouts.length, start + size);
        const positions: number[] = [];
        for (let i = start; i < end; i++) positions.push(i);
        this.#queue.push({ request, rollouts: rollouts.slice(start, end), positions, crashes: 0 });
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
    const watch = new SharedArrayBuffer(4 * 8);
    const init: WorkerInit = {
      plugins: this.#opts.plugins,
      timeBudgetMs: this.#opts.timeBudgetMs,
      domainBudgetsMs: this.#opts.domainBudgetsMs,
      watch,
    };
    const worker = new Worker(WORKER_URL, { workerData: init });
    const slot: Slot = { worker, watch: new Float64Array(watch), units: new Map(), checking: false };
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
        } else if (msg.type === "done" && slot.units.has(msg.batch)) {
          const unit = slot.units.get(msg.batch) as Unit;
          slot.units.delete(msg.batch);
          for (const [k, r] of msg.rewards.entries()) this.#settle(unit, k, settleFinal(r));
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

  /**
   * Drops a slot whose worker died or was killed. The rollout it was on (if known) gets a
   * final verdict when `final` says so or when a worker already died on it; otherwise it is
   * re-queued alone for one more try. The rest of its batch goes back to the queue.
   */
  #failSlot(slot: Slot, code: string, message: string, final = false): void {
    const i = this.#slots.indexOf(slot);
    if (i === -1) return;
    this.#slots.splice(i, 1);
    const units = [...slot.units];
    slot.units.clear();
    void slot.worker.terminate();
    // The unit the worker was inside gets the verdict; units it had not reached go back whole.
    const inside = slot.watch[2] !== 0 ? (slot.watch[0] as number) : -1;
    for (const [batch, unit] of units.reverse()) {
      if (batch === inside || this.#fatal !== undefined) this.#recover(unit, slot, code, message, final);
      else this.#queue.unshift(unit);
    }
    if (!this.#closed && this.#fatal === undefined) this.#spawn().catch(() => undefined);
    else this.#drainWithError(code, message);
  }

  #recover(unit: Unit, slot: Slot, code: string, message: string, final: boolean): void {
    const stuck = slot.watch[2] !== 0 ? (slot.watch[1] as number) : -1;
    const part = (ks: number[], crashes: number): Unit => ({
      request: unit.request,
      rollouts: ks.map((k) => unit.rollouts[k] as Rollout),
      positions: ks.map((k) => unit.positions[k] as number),
      crashes,
    });
    const rest: number[] = [];
    for (const [k, r] of unit.rollouts.entries()) {
      if (this.#fatal !== undefined)
        this.#settle(unit, k, errorReward(r.id, `rtv:${r.domain}`, code, message));
      else if (k === stuck && (final || (unit.rollouts.length === 1 && unit.crashes > 0))) {
        const why = final ? code : "verifier_crash_repeated";
        const text = final ? message : `a verifier worker died twice on this response (${message})`;
        this.#settle(unit, k, settleFinal(errorReward(r.id, `rtv:${r.domain}`, why, text)));
      } else if (k === stuck) this.#queue.unshift(part([k], unit.crashes + 1));
      else rest.push(k);
    }
    if (rest.length === 0) return;
    // A worker that died outside any one verifier call: re-queue, but not forever.
    if (stuck === -1 && unit.crashes >= 2) {
      for (const k of rest)
        this.#settle(
          unit,
          k,
          errorReward((unit.rollouts[k] as Rollout).id, "datascale:verify", code, message),
        );
      return;
    }
    this.#queue.unshift(part(rest, stuck === -1 ? unit.crashes + 1 : unit.crashes));
  }

  #drainWithError(code: string, message: string): void {
    if (this.#slots.length > 0) return;
    for (const unit of this.#queue.splice(0)) {
      for (const [k, r] of unit.rollouts.entries()) {
        this.#settle(unit, k, errorReward(r.id, `rtv:${r.domain}`, code, message));
      }
    }
  }

  /**
   * Kills a worker whose verifier call is over the hard limit in CPU time (the response's
   * doing: a final verdict). Wall time alone can be the machine's load, so a call over the
   * limit in wall time but not in CPU is given up to 10× the limit before it is killed too.
   */
  #checkTimeouts(): void {
    const now = Date.now();
    const hard = this.#opts.hardTimeoutMs;
    for (const slot of [...this.#slots]) {
      const started = slot.watch[2] as number;
      if (slot.units.size === 0 || started === 0 || now - started <= hard || slot.checking) continue;
      slot.checking = true;
      const batch = slot.watch[0];
      slot.worker.cpuUsage().then(
        (u) => {
          slot.checking = false;
          if (slot.watch[0] !== batch || slot.watch[2] !== started) return; // moved on meanwhile
          const cpuMs = (u.user + u.system - (slot.watch[3] as number)) / 1000;
          if (cpuMs > hard || Date.now() - started > 10 * hard) {
            this.killed++;
            this.#failSlot(
              slot,
              "verifier_killed",
              `the verifier spent more than its hard limit of ${hard} ms on this response (${Math.round(cpuMs)} ms of CPU) and was stopped`,
              true,
            );
          }
        },
        () => {
          slot.checking = false;
        },
      );
    }
  }

  #pump(): void {
    for (let depth = 0; depth < PIPELINE; depth++) {
      for (const slot of this.#slots) {
        if (this.#queue.length === 0) return;
        if (slot.units.size > depth) continue;
        const unit = this.#queue.shift() as Unit;
        const batch = this.#nextBatch++;
        slot.units.set(batch, unit);
        slot.worker.postMessage({ type: "batch", batch, items: unit.rollouts } satisfies ToWorker);
      }
    }
  }
}
