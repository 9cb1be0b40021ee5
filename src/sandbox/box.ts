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
  compile?: { argv: string[]; limits: unknown };
  run: { kind: "python"; args: string[] } | { kind: "exec"; argv: string[] };
  tests: string[];
}

export type BoxEvent =
  | { t: "compile"; result: ExecResult }
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
    const harnessArgs = ["-I", "-S", "-c", HARNESS_SOURCE];
    if (config.isolation === "bwrap") {
      this.paths = { ...SANDBOX_DIRS };
      const args = [
        ...bwrapArgs({
          readOnly: config.readOnly,
          tmpfsBytes: config.tmpfsBytes,
          runtime: config.runtime,
          disableUserns: true,
        }),
        config.python,
        ...harnessArgs,
        JSON.stringify(this.paths),
      ];
      this.#child = spawn(config.bwrapPath, args, {
        env: {},
        stdio: ["pipe", "pipe", "pipe"],
        ...(config.uid === undefined ? {} : { uid: config.uid, gid: config.gid }),
      });
    } else {
      // Unsafe: no namespaces. Only rlimits and process-group kills stand between the
      // program and the host; callers must have asked for this explicitly.
      this.#hostDir = mkdtempSync(join(tmpdir(), "datascale-unsafe-"));
      const d = this.#hostDir;
      this.paths = {
        work: join(d, "work"),
        build: join(d, "build"),
        scratch: join(d, "scratch"),
        tmp: join(d, "tmp"),
        runtime: NODE_PREFIX,
      };
      const dirs = [this.paths.work, this.paths.build, this.paths.scratch, this.paths.tmp];
      const mk = `import os\nfor p in ${JSON.stringify(dirs)}: os.makedirs(p, exist_ok=True)\n`;
      this.#child = spawn(
        config.python,
        ["-I", "-S", "-c", mk + HARNESS_SOURCE, JSON.stringify(this.paths)],
        {
          env: {
            PATH: "/usr/bin:/bin",
            HOME: this.paths.work,
            LANG: "C.UTF-8",
            DATASCALE_HARNESS_UNSAFE: "1",
          },
          stdio: ["pipe", "pipe", "pipe"],
          cwd: d,
          detached: true,
        },
      );
    }
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

  /** Runs the job; resolves once the harness is done or gone. `onEvent` returning false stops it early. */
  async run(
    job: HarnessJob,
    deadlineMs: number,
    onEvent: (e: BoxEvent) => boolean | undefined,
  ): Promise<BoxOutcome> {
    await this.ready;
    let finished = false;
    let stopped = false;
    this.#listener = (m) => {
      if (m.t === "ready") return;
      if (m.t === "done") finished = true;
      if (onEvent(m) === false && !finished) {
        stopped = true;
        this.kill();
      }
    };
    const timer = setTimeout(() => this.kill(), deadlineMs);
    this.#child.stdin?.end(`${JSON.stringify(job)}\n`);
    const { code, signal } = await this.#exited;
    clearTimeout(timer);
    this.#listener = undefined;
    if (finished || stopped) return { finished: finished || stopped };
    if (this.#protocolError !== undefined) {
      return { finished: false, failure: { kind: "infrastructure", message: this.#protocolError } };
    }
    if (this.#killedByUs) {
      return {
        finished: false,
        failure: { kind: "infrastructure", message: `sandbox deadline of ${deadlineMs} ms exceeded` },
      };
    }
    if (code === HARNESS_FAILURE_EXIT || this.#stderr.includes("datascale harness failure")) {
      return { finished: false, failure: { kind: "infrastructure", message: this.#stderr.trim() } };
    }
    return {
      finished: false,
      failure: {
        kind: "program",
        message: `the program ended its sandbox's harness (exit ${code ?? signal})`,
      },
    };
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
