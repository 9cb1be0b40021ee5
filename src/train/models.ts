// Building the decoder a stage trains: fresh from a config and seed, or from a saved model
// directory (the Hugging Face layout saveModel writes), possibly adding a value or reward
// head the saved model did not have. Parameters are copied by name, so heads start at their
// init (zero).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DataScaleError } from "../core/errors.ts";
import { type DecoderConfig, type DecoderConfigInput, DecoderConfigSchema } from "../model/config.ts";
import { Decoder } from "../model/decoder.ts";
import { loadDecoderDir } from "../model/decoder-step-model.ts";
import { createTsKernel } from "../model/kernels/ts.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { paramLayout } from "../model/params.ts";
import { ByteTokenizer } from "../model/tokenizer/byte.ts";
import type { Tokenizer } from "../model/types.ts";
import { readLegacyParams } from "./rundir.ts";

/** A decoder on `kernel` (default: the TypeScript reference kernel, deterministic everywhere). */
export function newDecoder(config: DecoderConfigInput, seed: number, kernel?: Kernel): Decoder {
  return new Decoder(config, kernel ?? createTsKernel("f32"), { seed });
}

/** The procedural world's tokenizer: bytes plus BOS/EOS/PAD. */
export function byteTokenizer(): Tokenizer {
  return new ByteTokenizer();
}

function configInput(c: DecoderConfig): DecoderConfigInput {
  const { headDim: _h, ...rest } = c;
  return rest;
}

/**
 * The model saved in `dir`: the Hugging Face layout saveModel writes (config.json with a
 * model_type, model.safetensors), or the raw layout of earlier versions (our config.json and
 * params.bin), which still loads so old run directories resume.
 */
function savedDecoder(dir: string, seed: number): Decoder {
  const path = join(dir, "config.json");
  if (!existsSync(path)) throw new DataScaleError("not_found", `${path}: no such model config`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DataScaleError("bad_checkpoint", `${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw === "object" && raw !== null && "model_type" in raw)
    return loadDecoderDir(dir, createTsKernel("f32"));
  const parsed = DecoderConfigSchema.safeParse((({ headDim: _h, ...rest }) => rest)(raw as DecoderConfig));
  if (!parsed.success) throw new DataScaleError("bad_checkpoint", `${path}: ${parsed.error.message}`);
  const saved = new Decoder(parsed.data, createTsKernel("f32"), { seed });
  saved.params.set(readLegacyParams(dir, saved.params.length));
  return saved;
}

/** Loads `dir` (written by saveModel) with heads switched as asked; a new head starts at zero. */
export function loadDecoder(
  dir: string,
  heads: { valueHead?: boolean; rewardHead?: boolean },
  seed = 1,
  kernel?: Kernel,
): Decoder {
  const saved = savedDecoder(dir, seed);
  const target = newDecoder({ ...configInput(saved.config), ...heads }, seed, kernel);
  copyParamsByName(saved, target);
  return target;
}

/** Copies every parameter both models have (same name and shape). */
export function copyParamsByName(from: Decoder, to: Decoder): void {
  const src = new Map(paramLayout(from.config).entries.map((e) => [e.name, e]));
  for (const e of paramLayout(to.config).entries) {
    const s = src.get(e.name);
    if (s === undefined || s.shape.join("x") !== e.shape.join("x")) continue;
    const n = e.shape.reduce((a, b) => a * b, 1);
    to.params.set(from.params.subarray(s.offset, s.offset + n), e.offset);
  }
}

/** A frozen copy (for the PPO/GRPO reference policy). */
export function cloneDecoder(
  model: Decoder,
  heads: { valueHead?: boolean; rewardHead?: boolean } = {},
  kernel: Kernel = model.kernel,
): Decoder {
  const copy = newDecoder({ ...configInput(model.config), ...heads }, 1, kernel);
  copyParamsByName(model, copy);
  return copy;
}

export { configInput };
