// One sandbox process: a bubblewrap namespace (or, in unsafe mode, a bare process group)
// running the harness, started warm and used for exactly one submission.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { formatZodError } from "../core/errors.ts";
import { bwrapArgs, SANDBOX_DIRS } from "./bwrap.ts";
import { HARNESS_SOURCE } from "./harness-source.ts";
import { NODE_PREFIX } from "./runtime-node.ts";
import { type ExecResult, HarnessMessage } from "./types.ts";

const HARNESS_FAILURE_EXIT = 70;
const STDERR_KEEP = 8192;

export interface BoxConfig {
  isolation: "bwrap" | "unsafe";
  bwrapPath: string;
  python: string;
  /** Host uid/gid the sandbox runs as (when DataScale runs as root). */
  uid: number | undefined;
  gid: number | undefined;
  readOnly: readonly string[];
  tmpfsBytes: number;
  /** Host path of the Node prefix to bind (IsolationReport.runtime). */
  runtime: string;
}

/** What the harness needs to know; built by the pool from the submission and its runner. */
export interface HarnessJob {
  sourceName: string;
  source: string;
  files: Record<string, string>;
  fetch: string[];
  env: Record<string, string>;
  wipe: string[];
  limits: unknown;
  /** `collect`: send back what the compile left in the build dir, up to this many bytes. */
  compile?: { argv: string[]; limits: unknown; collect?: number };
  /** A cached compile's output, written to the build dir instead of compiling. */
  prebuilt?: Record<string, string>;
  run: { kind: "python"; args: string[] } | { kind: "exec"; argv: string[] };
  tests: string[];
}

export type BoxEvent =
  | { t: "compile"; result: ExecResult; artifacts?: Record<string, string> | undefined }
  | { t: "test"; i: number; result: ExecResult }
  | { t: "done"; files: Record<string, string> };

export interface BoxOutcome {
  /** True when the harness finished the job (sent `done`). */
  finished: boolean;
  /** Why it did not finish: a harness failure or our deadline (infrastructure), or the program ending its harness. */
  failure?: { kind: "infrastructure" | "program"; message: string };
}

/** One submission's sandbox, however it is made (a fresh bwrap, or a zygote's child). */
export interface SubmissionBox {
  readonly paths: { work: string; build: string; scratch: string; tmp: string; runtime: string };
  readonly ready: Promise<void>;
  run(
    job: HarnessJob,
    deadlineMs: number,
    onEvent: (e: BoxEvent) => boolean | undefined,
  ): Promise<BoxOutcome>;
  kill(): void;
  closed(): Promise<void>;
}

/** How a box's harness went away: an infrastructure failure, or an exit to describe. */
export type BoxEnd = { infrastructure: string } | { exit: string };

/** What runJob needs of a box: its transport to and from one harness. */
export interface BoxLink {
  ready: Promise<void>;
  /** Routes the harness's messages (after `ready`) to `l`; undefined stops routing. */
  listen(l: ((m: HarnessMessage) => void) | undefined): void;
  send(job: HarnessJob): void;
  /** Resolves when the harness has gone (exited, or its zygote died). */
  ended: Promise<BoxEnd>;
  kill(): void;
  killedByUs(): boolean;
}

/**
 * The run protocol every kind of box shares: send the job, pass events on, stop early
 * when `onEvent` returns false, kill at the deadline. The result is complete at `done`,
 * so it returns then, while the harness exits (and, in zygote mode, its namespaces are
 * torn down) in the background: the next submission need not wait for that.
 */
export async function runJob(
  link: BoxLink,
  job: HarnessJob,
  deadlineMs: number,
  onEvent: (e: BoxEvent) => boolean | undefined,
): Promise<BoxOutcome> {
  await link.ready;
  let finished = false;
  let stopped = false;
  let sawDone: () => void = () => undefined;
  const done = new Promise<undefined>((resolve) => {
    sawDone = () => resolve(undefined);
  });
  link.listen((m) => {
    if (m.t === "ready") return;
    if (m.t === "done") finished = true;
    if (onEvent(m) === false && !finished) {
      stopped = true;
      link.kill();
    }
    if (finished) sawDone();
  });
  const timer = setTimeout(() => link.kill(), deadlineMs);
  link.send(job);
  const end = await Promise.race([done, link.ended]);
  clearTimeout(timer);
  link.listen(undefined);
  if (end === undefined || finished || stopped) return { finished: true };
  if ("infrastructure" in end)
    return { finished: false, failure: { kind: "infrastructure", message: end.infrastructure } };
  if (link.killedByUs()) {
    return {
      finished: false,
      failure: { kind: "infrastructure", message: `sandbox deadline of ${deadlineMs} ms exceeded` },
    };
  }
  return {
    finished: false,
    failure: { kind: "program", message: `the program ended its sandbox's harness (exit ${end.exit})` },
  };
}

type BoxPaths = SandboxBox["paths"];
const HARNESS_ARGS = ["-I", "-S", "-c", HARNESS_SOURCE];

/** The harness inside bubblewrap (every namespace unshared), as the sandbox user when one is configured. */
function spawnIsolated(config: BoxConfig): { child: ChildProcess; paths: BoxPaths; hostDir: undefined } {
  const paths = { ...SANDBOX_DIRS };
  const args = [
    ...bwrapArgs({
      readOnly: config.readOnly,
      tmpfsBytes: config.tmpfsBytes,
      runtime: config.runtime,
      disableUserns: true,
    }),
    config.python,
    ...HARNESS_ARGS,
    JSON.stringify(paths),
  ];
  const child = spawn(config.bwrapPath, args, {
    env: {},
    stdio: ["pipe", "pipe", "pipe"],
    ...(config.uid === undefined ? {} : { uid: config.uid, gid: config.gid }),
  });
  return { child, paths, hostDir: undefined };
}

/**
 * Unsafe: no namespaces. Only rlimits and process-group kills stand between the program
 * and the host; callers must have asked for this explicitly. Its dirs live in a host temp dir.
 */
function spawnUnsafe(config: BoxConfig): { child: ChildProcess; paths: BoxPaths; hostDir: string } {
  const d = mkdtempSync(join(tmpdir(), "datascale-unsafe-"));
  const paths = {
    work: join(d, "work"),
    build: join(d, "build"),
    scratch: join(d, "scratch"),
    tmp: join(d, "tmp"),
    runtime: NODE_PREFIX,
  };
  const dirs = [paths.work, paths.build, paths.scratch, paths.tmp];
  const mk = `import os\nfor p in ${JSON.stringify(dirs)}: os.makedirs(p, exist_ok=True)\n`;
  const child = spawn(config.python, ["-I", "-S", "-c", mk + HARNESS_SOURCE, JSON.stringify(paths)], {
    env: {
      PATH: "/usr/bin:/bin",
      HOME: paths.work,
      LANG: "C.UTF-8",
      DATASCALE_HARNESS_UNSAFE: "1",
    },
    stdio: ["pipe", "pipe", "pipe"],
    cwd: d,
    detached: true,
  });
  return { child, paths, hostDir: d };
}

export class SandboxBox implements SubmissionBox {
  readonly paths: { work: string; build: string; scratch: string; tmp: string; runtime: string };
  readonly ready: Promise<void>;
  readonly #child: ChildProcess;
  readonly #hostDir: string | undefined;
  #stderr = "";
  #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listener: ((m: HarnessMessage) => void) | undefined;
  #protocolError: string | undefined;
  #killedByUs = false;

  constructor(config: BoxConfig) {
    const started = config.isolation === "bwrap" ? spawnIsolated(config) : spawnUnsafe(config);
    this.paths = started.paths;
    this.#hostDir = started.hostDir;
    this.#child = started.child;
    const child = this.#child;
    this.#exited = new Promise((resolve) => {
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      if (this.#stderr.length < STDERR_KEEP) this.#stderr += s.slice(0, STDERR_KEEP - this.#stderr.length);
    });
    child.stdin?.on("error", () => undefined);
    const lines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    let readyResolve: () => void;
    let readyReject: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    let gotReady = false;
    lines.on("line", (line) => {
      let parsed: HarnessMessage;
      try {
        const r = HarnessMessage.safeParse(JSON.parse(line));
        if (!r.success) throw new Error(formatZodError(r.error));
        parsed = r.data;
      } catch (e) {
        this.#protocolError ??= `harness protocol: ${e instanceof Error ? e.message : e}: ${line.slice(0, 200)}`;
        this.kill();
        return;
      }
      if (parsed.t === "ready") {
        gotReady = true;
        readyResolve();
        return;
      }
      this.#listener?.(parsed);
    });
    child.once("error", (e) => readyReject(new Error(`sandbox failed to start: ${e.message}`)));
    this.#exited.then(({ code, signal }) => {
      if (!gotReady)
        readyReject(new Error(`sandbox exited before ready (${code ?? signal}): ${this.#stderr.trim()}`));
      if (this.#hostDir !== undefined) rmSync(this.#hostDir, { recursive: true, force: true });
    });
  }

  /** Runs the job (see runJob); `onEvent` returning false stops it early. */
  run(
    job: HarnessJob,
    deadlineMs: number,
    onEvent: (e: BoxEvent) => boolean | undefined,
  ): Promise<BoxOutcome> {
    return runJob(
      {
        ready: this.ready,
        listen: (l) => {
          this.#listener = l;
        },
        send: (j) => this.#child.stdin?.end(`${JSON.stringify(j)}\n`),
        ended: this.#exited.then(({ code, signal }): BoxEnd => {
          if (this.#protocolError !== undefined) return { infrastructure: this.#protocolError };
          if (
            !this.#killedByUs &&
            (code === HARNESS_FAILURE_EXIT || this.#stderr.includes("datascale harness failure"))
          )
            return { infrastructure: this.#stderr.trim() };
          return { exit: String(code ?? signal) };
        }),
        kill: () => this.kill(),
        killedByUs: () => this.#killedByUs,
      },
      job,
      deadlineMs,
      onEvent,
    );
  }

  kill(): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#killedByUs = true;
    try {
      if (this.#hostDir !== undefined && this.#child.pid !== undefined)
        process.kill(-this.#child.pid, "SIGKILL");
      else this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Resolves when the process has exited (after kill() or the end of its job). */
  async closed(): Promise<void> {
    await this.#exited;
  }
}
