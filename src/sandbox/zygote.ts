// Host side of the zygote: one bubblewrap sandbox whose harness forks a freshly
// namespaced child per submission (see harness.py, "zygote mode"). A submission's child
// costs a fork and a few mounts instead of a sandbox and interpreter start, while keeping
// submissions apart (own user/PID/mount/net/IPC namespaces, own tmpfs, no capabilities).
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";
import { formatZodError } from "../core/errors.ts";
import {
  type BoxConfig,
  type BoxEnd,
  type BoxEvent,
  type BoxOutcome,
  type HarnessJob,
  runJob,
  type SubmissionBox,
} from "./box.ts";
import { bwrapArgs, SANDBOX_DIRS } from "./bwrap.ts";
import { HARNESS_SOURCE } from "./harness-source.ts";
import { HarnessMessage } from "./types.ts";

const ZygoteLine = z.union([
  z.object({ t: z.literal("ready"), pid: z.number() }),
  z.object({ id: z.number().int(), m: HarnessMessage }),
  z.object({ id: z.number().int(), exit: z.number().int() }),
]);

interface Handler {
  onMessage: (m: HarnessMessage) => void;
  onExit: (code: number | undefined, why: string | undefined) => void;
}

export class Zygote {
  readonly ready: Promise<void>;
  readonly #child: ChildProcess;
  readonly #handlers = new Map<number, Handler>();
  #nextId = 1;
  #stderr = "";
  #dead: string | undefined;

  constructor(config: BoxConfig) {
    const args = [
      ...bwrapArgs({ readOnly: config.readOnly, tmpfsBytes: 1 << 20, runtime: config.runtime }),
      config.python,
      "-I",
      "-S",
      "-c",
      HARNESS_SOURCE,
      JSON.stringify(SANDBOX_DIRS),
      "--zygote",
      String(config.tmpfsBytes),
    ];
    this.#child = spawn(config.bwrapPath, args, {
      env: {},
      stdio: ["pipe", "pipe", "pipe"],
      ...(config.uid === undefined ? {} : { uid: config.uid, gid: config.gid }),
    });
    const child = this.#child;
    child.stdin?.on("error", () => undefined);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-8192);
    });
    let readyResolve: () => void;
    let readyReject: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    const lines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      let msg: z.infer<typeof ZygoteLine>;
      try {
        const r = ZygoteLine.safeParse(JSON.parse(line));
        if (!r.success) throw new Error(formatZodError(r.error));
        msg = r.data;
      } catch (e) {
        this.#fail(`zygote protocol: ${e instanceof Error ? e.message : e}: ${line.slice(0, 200)}`);
        return;
      }
      if ("t" in msg) {
        readyResolve();
        return;
      }
      const h = this.#handlers.get(msg.id);
      if (h === undefined) return;
      if ("m" in msg) h.onMessage(msg.m);
      else {
        this.#handlers.delete(msg.id);
        h.onExit(msg.exit, msg.exit === 70 ? this.#stderr.trim() : undefined);
      }
    });
    child.once("error", (e) => this.#fail(`zygote failed to start: ${e.message}`));
    child.once("close", (code, signal) => {
      this.#fail(`zygote exited (${code ?? signal}): ${this.#stderr.trim()}`);
      readyReject(new Error(this.#dead));
    });
  }

  get alive(): boolean {
    return this.#dead === undefined;
  }

  #fail(why: string): void {
    this.#dead ??= why;
    const hs = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const h of hs) h.onExit(undefined, this.#dead);
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }

  #send(msg: unknown): void {
    if (this.#dead === undefined) this.#child.stdin?.write(`${JSON.stringify(msg)}\n`);
  }

  /** Starts a submission child now; it becomes ready while waiting for its job. */
  spawnBox(): SubmissionBox {
    return new ZygoteBox(this, this.#nextId++);
  }

  /** @internal */
  attach(id: number, h: Handler): void {
    if (this.#dead !== undefined) {
      h.onExit(undefined, this.#dead);
      return;
    }
    this.#handlers.set(id, h);
    this.#send({ t: "spawn", id });
  }

  /** @internal */
  sendJob(id: number, job: HarnessJob): void {
    // The job follows its header on a line of its own, which the zygote forwards unparsed.
    if (this.#dead === undefined)
      this.#child.stdin?.write(`${JSON.stringify({ t: "job", id })}\n${JSON.stringify(job)}\n`);
  }

  /** @internal */
  killBox(id: number): void {
    this.#send({ t: "kill", id });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const closed = new Promise<void>((r) => this.#child.once("close", () => r()));
    this.#child.kill("SIGKILL");
    await closed;
  }
}

class ZygoteBox implements SubmissionBox {
  readonly paths = { ...SANDBOX_DIRS };
  readonly ready: Promise<void>;
  readonly #zygote: Zygote;
  readonly #id: number;
  readonly #exited: Promise<{ code: number | undefined; why: string | undefined }>;
  #listener: ((m: HarnessMessage) => void) | undefined;
  #killedByUs = false;
  #done = false;

  constructor(zygote: Zygote, id: number) {
    this.#zygote = zygote;
    this.#id = id;
    let readyResolve: () => void;
    let readyReject: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    let gotReady = false;
    this.#exited = new Promise((resolve) => {
      zygote.attach(id, {
        onMessage: (m) => {
          if (m.t === "ready") {
            gotReady = true;
            readyResolve();
          } else this.#listener?.(m);
        },
        onExit: (code, why) => {
          this.#done = true;
          if (!gotReady) readyReject(new Error(`sandbox exited before ready (${code}): ${why ?? ""}`));
          resolve({ code, why });
        },
      });
    });
  }

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
        send: (j) => this.#zygote.sendJob(this.#id, j),
        ended: this.#exited.then(
          ({ code, why }): BoxEnd => (why !== undefined ? { infrastructure: why } : { exit: String(code) }),
        ),
        kill: () => this.kill(),
        killedByUs: () => this.#killedByUs,
      },
      job,
      deadlineMs,
      onEvent,
    );
  }

  kill(): void {
    if (this.#done) return;
    this.#killedByUs = true;
    this.#zygote.killBox(this.#id);
  }

  async closed(): Promise<void> {
    await this.#exited;
  }
}
