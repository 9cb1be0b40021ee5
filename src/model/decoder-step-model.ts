// The engine's decoder in and out of Hugging Face checkpoints: the StepModel behind
// `serve-model` and the embedded Backend (the default `--model-module`), and the reverse,
// a decoder's parameters as a checkpoint that Python tools can read.
import {
  type Checkpoint,
  type CheckpointConfig,
  engineConfigInput,
  fromHfNames,
  withHfNames,
} from "./checkpoint.ts";
import { decoderConfig } from "./config.ts";
import { Decoder } from "./decoder.ts";
import { selectKernel } from "./kernels/index.ts";
import { paramLayout } from "./params.ts";
import type { StepModel } from "./types.ts";

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Loads a checkpoint into a fresh decoder on the selected kernel (DATASCALE_KERNEL). */
export async function createStepModel(checkpoint: Checkpoint): Promise<StepModel> {
  return loadDecoder(checkpoint);
}

export function loadDecoder(checkpoint: Checkpoint, kernel = selectKernel()): Decoder {
  const config = decoderConfig(engineConfigInput(checkpoint));
  const decoder = new Decoder(config, kernel);
  const tensors = withHfNames(checkpoint.tensors);
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

/** A decoder's parameters as an HF-layout (Llama) checkpoint. */
export function decoderCheckpoint(
  decoder: Decoder,
  tokens: { bosTokenId?: number | undefined; eosTokenIds?: number[] } = {},
): Checkpoint {
  const c = decoder.config;
  const config: CheckpointConfig = {
    architecture: "llama",
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
    qkvBias: false,
    ropeScaling: null,
    bosTokenId: tokens.bosTokenId,
    eosTokenIds: tokens.eosTokenIds ?? [],
  };
  const hf = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of paramLayout(c).entries) {
    hf.set(e.name, {
      shape: [...e.shape],
      data: Float32Array.from(decoder.params.subarray(e.offset, e.offset + count(e.shape))),
    });
  }
  return { config, tensors: fromHfNames(hf), ignored: [] };
}
