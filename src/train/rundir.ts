// A training run's directory: metrics.jsonl (one line per finished step), checkpoints of
// the full training state (parameters, optimizer moments and step count, trainer scalars),
// and `latest.json` naming the newest complete checkpoint. A checkpoint is written to a
// temporary directory and renamed into place, so a kill mid-write leaves the previous one.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import type { Decoder } from "../model/decoder.ts";
import { saveDecoderDir } from "../model/decoder-step-model.ts";
import type { Arr } from "../model/kernels/types.ts";
import { ByteTokenizer } from "../model/tokenizer/byte.ts";
import type { Tokenizer } from "../model/types.ts";
import type { TrainOptimizer } from "./optimizer.ts";

/** Checkpoints kept on disk; older ones are deleted once a newer one is complete. */
export const KEEP_CHECKPOINTS = 3;

const Latest = z.object({ step: z.number().int().nonnegative(), dir: z.string() });
const StateJson = z.object({
  step: z.number().int().nonnegative(),
  optimizerStep: z.number().int().nonnegative(),
  numParams: z.number().int().positive(),
  scalars: z.record(z.string(), z.number()),
});

export interface TrainState {
  /** Steps finished. */
  step: number;
  /** Trainer scalars that evolve (e.g. the adaptive KL coefficient). */
  scalars: Record<string, number>;
}

function writeF32(path: string, a: Arr): void {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  writeFileSync(path, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
}

function readF32(path: string, n: number): Float32Array {
  const buf = readFileSync(path);
  if (buf.byteLength !== n * 4)
    throw new DataScaleError("bad_checkpoint", `${path}: ${buf.byteLength} bytes, expected ${n * 4}`);
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export class RunDir {
  readonly dir: string;
  readonly metricsPath: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    this.metricsPath = join(dir, "metrics.jsonl");
  }

  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsPath)) return [];
    return readFileSync(this.metricsPath, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a line cut by a kill mid-write
        }
      });
  }

  /** Drops metrics of steps after `step` (they will be redone) and any torn last line. */
  truncateMetrics(step: number): void {
    const kept = this.readMetrics().filter((m) => typeof m["step"] === "number" && m["step"] <= step);
    writeFileSync(this.metricsPath, kept.map((m) => `${JSON.stringify(m)}\n`).join(""));
  }

  saveCheckpoint(
    model: Decoder,
    opt: TrainOptimizer,
    state: TrainState,
    extra: Record<string, Arr> = {},
  ): string {
    const name = `step-${String(state.step).padStart(6, "0")}`;
    const final = join(this.dir, "checkpoints", name);
    const tmp = `${final}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeF32(join(tmp, "params.bin"), model.params);
    writeF32(join(tmp, "adam_m.bin"), opt.m);
    writeF32(join(tmp, "adam_v.bin"), opt.v);
    for (const [k, a] of Object.entries(extra)) writeF32(join(tmp, `${k}.bin`), a);
    const json = {
      step: state.step,
      optimizerStep: opt.t,
      numParams: model.params.length,
      scalars: state.scalars,
    };
    writeFileSync(join(tmp, "state.json"), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(tmp, "config.json"), `${JSON.stringify(model.config, null, 2)}\n`);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    const latestTmp = join(this.dir, "latest.json.tmp");
    writeFileSync(latestTmp, JSON.stringify({ step: state.step, dir: name }));
    renameSync(latestTmp, join(this.dir, "latest.json"));
    this.#prune(name);
    return final;
  }

  /** The final model's directory: <runDir>/model, in the Hugging Face layout. */
  get modelDir(): string {
    return join(this.dir, "model");
  }

  /** Keeps the newest KEEP checkpoints (names sort by step). */
  #prune(newest: string): void {
    const all = readdirSync(join(this.dir, "checkpoints"))
      .filter((n) => /^step-\d+$/.test(n) && n <= newest)
      .sort();
    for (const old of all.slice(0, Math.max(0, all.length - KEEP_CHECKPOINTS)))
      rmSync(join(this.dir, "checkpoints", old), { recursive: true, force: true });
  }

  /** The newest complete checkpoint's step, or undefined when there is none. */
  latest(): { step: number; dir: string } | undefined {
    const path = join(this.dir, "latest.json");
    if (!existsSync(path)) return undefined;
    const parsed = Latest.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success)
      throw new DataScaleError("bad_checkpoint", `${path}: ${formatZodError(parsed.error)}`);
    return { step: parsed.data.step, dir: join(this.dir, "checkpoints", parsed.data.dir) };
  }

  /** Restores parameters and optimizer state in place; returns the trainer state and extras. */
  loadCheckpoint(
    dir: string,
    model: Decoder,
    opt: TrainOptimizer,
    /** Extra arrays saved beside the parameters, by name and length. */
    extraSizes: Readonly<Record<string, number>> = {},
  ): { state: TrainState; extra: Record<string, Float32Array> } {
    const statePath = join(dir, "state.json");
    const parsed = StateJson.safeParse(JSON.parse(readFileSync(statePath, "utf8")));
    if (!parsed.success)
      throw new DataScaleError("bad_checkpoint", `${statePath}: ${formatZodError(parsed.error)}`);
    const s = parsed.data;
    const n = model.params.length;
    if (s.numParams !== n)
      throw new DataScaleError(
        "bad_checkpoint",
        `${statePath}: ${s.numParams} parameters, the model has ${n}`,
      );
    model.params.set(readF32(join(dir, "params.bin"), n));
    opt.m.set(readF32(join(dir, "adam_m.bin"), n));
    opt.v.set(readF32(join(dir, "adam_v.bin"), n));
    opt.t = s.optimizerStep;
    const extra: Record<string, Float32Array> = {};
    for (const [k, size] of Object.entries(extraSizes)) extra[k] = readF32(join(dir, `${k}.bin`), size);
    return { state: { step: s.step, scalars: s.scalars }, extra };
  }
}

/**
 * Saves a trained model as a Hugging Face model directory (model/decoder-step-model.ts:
 * config.json, model.safetensors, tokenizer files with the chat template): what a later
 * stage loads as its starting model, and what transformers, vLLM and `datascale serve-model`
 * load. `tokenizer` defaults to the procedural world's byte tokenizer.
 */
export function saveModel(dir: string, model: Decoder, tokenizer: Tokenizer = new ByteTokenizer()): void {
  saveDecoderDir(dir, model, tokenizer);
}

/** The parameters of a model directory in the layout before Hugging Face export (params.bin). */
export function readLegacyParams(dir: string, n: number): Float32Array {
  return readF32(join(dir, "params.bin"), n);
}
