// The sandbox service used by verifiers, the CLI and (later) the SandboxFusion-compatible
// server: a bounded number of concurrent sandboxes, with warm ones started ahead of need.
// Each sandbox serves exactly one submission and is then destroyed, so submissions never
// share a process, a namespace or a file system; the tests of one submission share its
// sandbox (forked per test, leftovers killed and wiped between tests).
import { availableParallelism } from "node:os";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import {
  type BoxConfig,
  type BoxEvent,
  type BoxOutcome,
  type HarnessJob,
  SandboxBox,
  type SubmissionBox,
} from "./box.ts";
import { SANDBOX_DIRS } from "./bwrap.ts";
import { CompileCache, type CompiledEntry, compileKey } from "./compile-cache.ts";
import { type IsolationReport, probeIsolation } from "./isolation.ts";
import { findRunner, RUNNERS, type Runner } from "./runners/index.ts";
import type { SandboxPaths } from "./runners/types.ts";
import {
  DEFAULT_COMPILE_LIMITS,
  DEFAULT_LIMITS,
  type ExecResult,
  type Limits,
  Submission,
  type SubmissionInput,
  type SubmissionResult,
} from "./types.ts";
import { Zygote } from "./zygote.ts";

export interface SandboxOptions {
  /**
   * Submissions running at once; default: 2 × available cores. A sandbox spends much of
   * its time in fork/exit/pipe hand-offs rather than on a core, and limits are judged by
   * CPU time, so modest oversubscription raises throughput without changing verdicts.
   */
  concurrency?: number;
  /** Sandboxes kept started and idle, ready for the next submission; default: concurrency. */
  warm?: number;
  /** Run without namespaces when bubblewrap is unusable. Only rlimits remain. Never for untrusted code. */
  unsafe?: boolean;
  /** Size of each private tmpfs (/tmp, work, build), bytes; default 64 MiB. */
  tmpfsBytes?: number;
  python?: string;
  /**
   * `zygote` (default where nested namespaces work): one warm sandbox forks a freshly
   * namespaced child per submission. `fresh`: a new bubblewrap + interpreter per submission.
   */
  mode?: "zygote" | "fresh";
  /**
   * Zygotes to spread submissions over (zygote mode); default: available cores. One
   * zygote forks, relays and reaps every submission it serves on a single thread, so a
   * single one caps throughput at one core however many submissions are in flight.
   */
  zygotes?: number;
  /** Bytes of compiled programs kept for reuse (see compile-cache.ts); default 256 MiB, 0 turns it off. */
  compileCacheBytes?: number;
}

const SANDBOX_PATHS = SANDBOX_DIRS;

/** Largest compile output sent back to be cached; bigger ones are simply not cached. */
const MAX_ARTIFACT_BYTES = 32 << 20;

export interface RunOptions {
  /** Called per result as it arrives; return false to stop the submission's remaining tests. */
  onTest?: (index: number, result: ExecResult) => boolean | undefined;
  /** Aborting kills the submission's sandbox; unfinished tests get a sandbox_error. */
  signal?: AbortSignal;
  /** Called once the submission has a sandbox, i.e. when waiting for a slot ends. */
  onStart?: () => void;
}

function sandboxError(message: string): ExecResult {
  return {
    status: "sandbox_error",
    exitCode: null,
    signal: null,
    stdout: "",
    stderr: message,
    stdoutTruncated: false,
    stderrTruncated: false,
    wallMs: 0,
    cpuMs: 0,
    memoryKb: 0,
  };
}

/**
 * What the harness runs for `sub` in a box with these paths: the source and files, a clean
 * environment, the limits, and the compile — or, from the compile cache, its output.
 */
function harnessJob(
  runner: Runner,
  sub: Submission,
  paths: SandboxPaths,
  userLimits: Limits,
  compileLimits: Limits,
  cached: CompiledEntry | undefined,
  collect: boolean,
): HarnessJob {
  const job: HarnessJob = {
    sourceName: runner.sourceName,
    source: sub.code,
    files: sub.files,
    fetch: sub.fetchFiles,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: paths.work,
      LANG: "C.UTF-8",
      TMPDIR: paths.tmp,
      ...runner.env?.(paths, userLimits),
    },
    wipe: [paths.work, paths.tmp],
    // rssMb: the caller's memory limit, judged on peak RSS when AS gets a runtime's slack.
    limits: { ...(runner.limits?.(userLimits) ?? userLimits), rssMb: userLimits.memoryMb },
    run: runner.run(paths, userLimits),
    tests: sub.tests.map((t) => t.stdin),
  };
  if (cached?.artifacts !== undefined) job.prebuilt = cached.artifacts;
  else if (runner.compile !== undefined) {
    job.compile = {
      argv: runner.compile(paths, compileLimits),
      limits: compileLimits,
      ...(collect ? { collect: MAX_ARTIFACT_BYTES } : {}),
    };
  }
  return job;
}

/**
 * A harness that did not finish: the compile it lost, or else the next test, gets the
 * failure — a sandbox_error for infrastructure, the program's own error when it ended the harness.
 */
function recordFailure(
  result: SubmissionResult,
  failure: NonNullable<BoxOutcome["failure"]>,
  compileLost: boolean,
  testCount: number,
): void {
  if (failure.kind === "infrastructure") {
    if (compileLost) result.compile = sandboxError(failure.message);
    else if (result.tests.length < testCount) result.tests.push(sandboxError(failure.message));
  } else {
    const r: ExecResult = { ...sandboxError(failure.message), status: "runtime_error" };
    if (compileLost) result.compile = { ...r, status: "compile_error" };
    else if (result.tests.length < testCount) result.tests.push(r);
  }
}

export class Sandbox {
  readonly isolation: "bwrap" | "unsafe";
  readonly report: IsolationReport;
  readonly concurrency: number;
  readonly #warm: number;
  readonly #config: BoxConfig;
  readonly mode: "zygote" | "fresh" | "unsafe";
  readonly #idle: SubmissionBox[] = [];
  readonly #zygotes: (Zygote | undefined)[];
  readonly #zygoteLoad = new Map<Zygote, number>();
  readonly #waiters: (() => void)[] = [];
  #running = 0;
  #closed = false;
  readonly compileCache: CompileCache | undefined;

  constructor(options: SandboxOptions = {}, report: IsolationReport = probeIsolation()) {
    this.report = report;
    if (report.bwrap.works) this.isolation = "bwrap";
    else if (options.unsafe === true) this.isolation = "unsafe";
    else {
      throw new DataScaleError(
        "sandbox_unavailable",
        `no isolation available (${report.bwrap.error}); refusing to run untrusted code. ` +
          "Install bubblewrap or pass the explicit unsafe flag (never for model outputs).",
      );
    }
    this.mode =
      this.isolation === "unsafe"
        ? "unsafe"
        : options.mode === "fresh" || !report.nestedNamespaces
          ? "fresh"
          : "zygote";
    if (options.mode === "zygote" && this.mode !== "zygote") {
      throw new DataScaleError(
        "sandbox_mode",
        "zygote mode needs nested user namespaces, which this host refuses",
      );
    }
    this.concurrency = Math.max(1, options.concurrency ?? 2 * availableParallelism());
    this.#warm = Math.max(0, options.warm ?? this.concurrency);
    this.#zygotes = Array.from<Zygote | undefined>({
      length: Math.max(1, Math.min(this.concurrency, options.zygotes ?? availableParallelism())),
    });
    this.#config = {
      isolation: this.isolation,
      bwrapPath: report.bwrap.path ?? "bwrap",
      python: options.python ?? "/usr/bin/python3",
      uid: report.uid,
      gid: report.gid,
      readOnly: RUNNERS.flatMap((r) => r.hostPaths),
      tmpfsBytes: options.tmpfsBytes ?? 64 << 20,
      runtime: report.runtime,
    };
    const cacheBytes = options.compileCacheBytes ?? 256 << 20;
    this.compileCache = cacheBytes > 0 ? new CompileCache(cacheBytes) : undefined;
    this.#refill();
  }

  /** Submissions running now (each holds one of `concurrency` slots). */
  get running(): number {
    return this.#running;
  }

  #newBox(): SubmissionBox {
    if (this.mode !== "zygote") return new SandboxBox(this.#config);
    // The least loaded zygote (boxes started and not yet closed) gets the new box.
    let best = 0;
    for (let i = 0; i < this.#zygotes.length; i++) {
      const z = this.#zygotes[i];
      if (z === undefined || !z.alive) {
        if (z !== undefined) this.#zygoteLoad.delete(z);
        const fresh = new Zygote(this.#config);
        this.#zygotes[i] = fresh;
        this.#zygoteLoad.set(fresh, 0);
      }
      const load = this.#zygoteLoad.get(this.#zygotes[i] as Zygote) ?? 0;
      if (load < (this.#zygoteLoad.get(this.#zygotes[best] as Zygote) ?? 0)) best = i;
    }
    const zygote = this.#zygotes[best] as Zygote;
    this.#zygoteLoad.set(zygote, (this.#zygoteLoad.get(zygote) ?? 0) + 1);
    const box = zygote.spawnBox();
    void box.closed().then(() => {
      const load = this.#zygoteLoad.get(zygote);
      if (load !== undefined) this.#zygoteLoad.set(zygote, load - 1);
    });
    return box;
  }

  #anyZygoteDead(): boolean {
    return this.#zygotes.some((z) => z !== undefined && !z.alive);
  }

  #refill(): void {
    while (!this.#closed && this.#idle.length < this.#warm) this.#idle.push(this.#newBox());
  }

  async #acquire(): Promise<SubmissionBox> {
    while (this.#running >= this.concurrency) await new Promise<void>((r) => this.#waiters.push(r));
    this.#running++;
    // Warm children of a zygote that has died would only report its death; start afresh.
    if (this.#anyZygoteDead()) {
      for (const b of this.#idle.splice(0)) b.kill();
    }
    const box = this.#idle.shift() ?? this.#newBox();
    this.#refill();
    return box;
  }

  #release(box: SubmissionBox): void {
    box.kill();
    this.#running--;
    this.#waiters.shift()?.();
  }

  /** Runs every test of one submission in one fresh sandbox. Never throws for program faults. */
  /** Size of each private tmpfs, bytes: the scratch that holds a test's stdin, stdout and stderr is one. */
  get tmpfsBytes(): number {
    return this.#config.tmpfsBytes;
  }

  async runSubmission(input: SubmissionInput, options: RunOptions = {}): Promise<SubmissionResult> {
    if (this.#closed) throw new DataScaleError("sandbox_closed", "sandbox is closed");
    const parsed = Submission.safeParse(input);
    if (!parsed.success) throw new DataScaleError("bad_submission", formatZodError(parsed.error));
    // A lone surrogate has no UTF-8 encoding and would fail the harness (a sandbox_error for
    // what is the program's own text): it becomes U+FFFD, as any UTF-8 reader would read it.
    const sub = {
      ...parsed.data,
      code: parsed.data.code.toWellFormed(),
      tests: parsed.data.tests.map((t) => ({ stdin: t.stdin.toWellFormed() })),
    };
    const runner = findRunner(sub.language);
    if (runner === undefined) {
      throw new DataScaleError(
        "unknown_language",
        `language '${sub.language}' is not supported (known: ${RUNNERS.map((r) => r.language).join(", ")})`,
      );
    }
    const userLimits: Limits = { ...DEFAULT_LIMITS, ...sub.limits };
    const callerCompileLimits: Limits = { ...DEFAULT_COMPILE_LIMITS, ...sub.compileLimits };
    const compileLimits = runner.compileLimits?.(callerCompileLimits) ?? callerCompileLimits;
    // The compile is keyed by the argv as the sandbox sees it; paths are the same in every box.
    const compileArgv = runner.compile?.(SANDBOX_PATHS, compileLimits);
    let cached: CompiledEntry | undefined;
    let settle: ((e: CompiledEntry | undefined) => void) | undefined;
    const key =
      compileArgv === undefined || this.compileCache === undefined
        ? undefined
        : compileKey({
            language: runner.language,
            argv: compileArgv,
            source: sub.code,
            files: sub.files,
            limits: compileLimits,
          });
    if (key !== undefined && this.compileCache !== undefined) {
      const got = await this.compileCache.acquire(key);
      if ("entry" in got) cached = got.entry;
      else settle = got.settle;
    }
    if (cached !== undefined && cached.compile.status !== "ok") {
      return { compile: { ...cached.compile, wallMs: 0, cpuMs: 0 }, tests: [], files: {} };
    }
    try {
      return await this.#runIn(runner, sub, userLimits, compileLimits, cached, settle, options);
    } finally {
      settle?.(undefined);
    }
  }

  async #runIn(
    runner: Runner,
    sub: Submission,
    userLimits: Limits,
    compileLimits: Limits,
    cached: CompiledEntry | undefined,
    settle: ((e: CompiledEntry | undefined) => void) | undefined,
    options: RunOptions,
  ): Promise<SubmissionResult> {
    const box = await this.#acquire();
    options.onStart?.();
    const job = harnessJob(runner, sub, box.paths, userLimits, compileLimits, cached, settle !== undefined);
    const compiling = runner.compile !== undefined && cached === undefined;
    const deadline =
      (compiling ? (compileLimits.wallMs ?? 2 * compileLimits.timeMs) : 0) +
      sub.tests.reduce((s) => s + (userLimits.wallMs ?? 2 * userLimits.timeMs) + 1000, 0) +
      10_000;
    const result: SubmissionResult = { tests: [], files: {} };
    if (cached !== undefined) result.compile = { ...cached.compile, wallMs: 0, cpuMs: 0 };
    let stopped = false;
    const onAbort = () => box.kill();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) box.kill();
    try {
      const outcome = await box.run(job, deadline, (e: BoxEvent) => {
        if (e.t === "compile") {
          result.compile = e.result;
          settle?.({ compile: e.result, ...(e.artifacts === undefined ? {} : { artifacts: e.artifacts }) });
        } else if (e.t === "test") {
          // Results racing in after the caller said stop are dropped: stopping is final.
          if (stopped) return false;
          result.tests.push(e.result);
          if (options.onTest?.(e.i, e.result) === false) stopped = true;
          return !stopped;
        } else result.files = e.files;
        return undefined;
      });
      if (outcome.failure !== undefined) {
        const compileLost = compiling && result.compile === undefined;
        recordFailure(result, outcome.failure, compileLost, sub.tests.length);
      }
    } catch (e) {
      result.tests.push(sandboxError(e instanceof Error ? e.message : String(e)));
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      this.#release(box);
    }
    return result;
  }

  /** Stops the warm sandboxes. Running submissions finish first. */
  async close(): Promise<void> {
    this.#closed = true;
    const idle = this.#idle.splice(0);
    for (const b of idle) b.kill();
    await Promise.all(idle.map((b) => b.closed()));
    await Promise.all(this.#zygotes.map((z) => z?.close()));
  }
}

export { findRunner, RUNNERS };
