// The engine's decoder in and out of Hugging Face checkpoints: the StepModel behind
// `serve-model` and the embedded Backend (the default `--model-module`), and the reverse,
// a decoder saved as a model directory that transformers, vLLM and our own server load.
import { renameSync, rmSync } from "node:fs";
import {
  type Checkpoint,
  type CheckpointConfig,
  engineConfigInput,
  fromHfNames,
  loadCheckpointSync,
  saveCheckpointSync,
  withHfNames,
} from "./checkpoint.ts";
import { decoderConfig } from "./config.ts";
import { Decoder } from "./decoder.ts";
import { selectKernel } from "./kernels/index.ts";
import type { Kernel } from "./kernels/types.ts";
import { paramLayout } from "./params.ts";
import type { Tensor } from "./safetensors.ts";
import { canWriteTokenizerFiles, hfTokenizerFiles } from "./tokenizer/export.ts";
import type { StepModel, Tokenizer } from "./types.ts";

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Loads a checkpoint into a fresh decoder on the selected kernel (DATASCALE_KERNEL). */
export async function createStepModel(checkpoint: Checkpoint): Promise<StepModel> {
  return loadDecoder(checkpoint);
}

/**
 * The checkpoint's tensors under the engine's parameter names: HF names, with a sequence
 * classifier's `score.weight` as the reward head (its bias, which transformers' head has
 * not, is 0 unless heads.safetensors holds one).
 */
function engineTensors(checkpoint: Checkpoint): Map<string, Tensor> {
  const tensors = withHfNames(checkpoint.tensors);
  const score = tensors.get("score.weight");
  if (score !== undefined) {
    tensors.delete("score.weight");
    tensors.set("reward_head.weight", score);
    if (!tensors.has("reward_head.bias"))
      tensors.set("reward_head.bias", { shape: [1], data: new Float32Array(1) });
  }
  return tensors;
}

export function loadDecoder(checkpoint: Checkpoint, kernel: Kernel = selectKernel()): Decoder {
  const config = decoderConfig(engineConfigInput(checkpoint));
  const decoder = new Decoder(config, kernel);
  const tensors = engineTensors(checkpoint);
  for (const e of paramLayout(config).entries) {
    const t = tensors.get(e.name);
    if (t === undefined) throw new Error(`checkpoint has no tensor '${e.name}'`);
    if (t.data.length !== count(e.shape)) {
      throw new Error(
        `tensor '${e.name}': ${t.data.length} values, the decoder expects shape ${e.shape.join("×")}`,
      );
    }
    decoder.params.set(t.data, e.offset);
  }
  return decoder;
}

/** Loads an HF-layout model directory into a decoder on `kernel`. */
export function loadDecoderDir(dir: string, kernel: Kernel = selectKernel()): Decoder {
  return loadDecoder(loadCheckpointSync(dir), kernel);
}

/**
 * A decoder's parameters as an HF-layout checkpoint: Llama, or Qwen2 when it has q/k/v
 * biases. A reward head becomes `score` (a one-label sequence classifier); its bias is kept
 * (in heads.safetensors) only when it is not 0, and a value head is kept there too.
 */
export function decoderCheckpoint(
  decoder: Decoder,
  tokens: { bosTokenId?: number | undefined; eosTokenIds?: number[]; padTokenId?: number | undefined } = {},
): Checkpoint {
  const c = decoder.config;
  const config: CheckpointConfig = {
    architecture: c.qkvBias ? "qwen2" : "llama",
    vocabSize: c.vocabSize,
    dim: c.dim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headDim: c.headDim,
    ffnDim: c.ffnDim,
    maxSeqLen: c.maxSeqLen,
    ropeTheta: c.ropeTheta,
    normEps: c.normEps,
    tieEmbeddings: c.tiedEmbeddings,
    qkvBias: c.qkvBias,
    ropeScaling: null,
    bosTokenId: tokens.bosTokenId,
    eosTokenIds: tokens.eosTokenIds ?? [],
    padTokenId: tokens.padTokenId,
  };
  const hf = new Map<string, Tensor>();
  for (const e of paramLayout(c).entries) {
    const data = Float32Array.from(decoder.params.subarray(e.offset, e.offset + count(e.shape)));
    if (e.name === "reward_head.bias" && data.every((x) => x === 0)) continue;
    hf.set(e.name === "reward_head.weight" ? "score.weight" : e.name, { shape: [...e.shape], data });
  }
  return { config, tensors: fromHfNames(hf), ignored: [] };
}

/**
 * Saves `decoder` as a Hugging Face model directory — config.json, model.safetensors
 * (heads.safetensors for a value head), tokenizer.json, tokenizer_config.json with the chat
 * template, generation_config.json — that transformers' AutoModelForCausalLM (or, with a
 * reward head, AutoModelForSequenceClassification), AutoTokenizer, and our serve-model load.
 * Written beside `dir` and renamed into place, so a kill mid-write leaves no partial model.
 */
export function saveDecoderDir(
  dir: string,
  decoder: Decoder,
  tokenizer: Tokenizer,
  options: { chatTemplate?: string; addBos?: boolean } = {},
): void {
  // Another tokenizer (no trainer here uses one) has no writer yet: the weights and config are
  // still saved — a finished training run must not be lost to its tokenizer — with a note.
  const files = canWriteTokenizerFiles(tokenizer)
    ? hfTokenizerFiles(tokenizer, { ...options, modelMaxLength: decoder.maxSeqLen })
    : undefined;
  if (files === undefined)
    process.stderr.write(
      `${dir}: saved without tokenizer files (writing them is implemented for the byte tokenizer; copy the model's own tokenizer.json and tokenizer_config.json here)\n`,
    );
  const eos = files?.eosTokenId ?? tokenizer.eosId;
  const checkpoint = decoderCheckpoint(decoder, {
    bosTokenId: files?.bosTokenId ?? tokenizer.bosId,
    eosTokenIds: eos === undefined ? [] : [eos],
    padTokenId: files?.padTokenId,
  });
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  saveCheckpointSync(
    tmp,
    checkpoint,
    files === undefined ? {} : { tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig },
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
