// The decoder's shape, nanoGPT-style: one object with defaults, validated at the boundary.
import { z } from "zod";

export const DecoderConfigSchema = z
  .object({
    vocabSize: z.number().int().positive().default(256),
    dim: z.number().int().positive().default(256),
    nLayers: z.number().int().positive().default(4),
    nHeads: z.number().int().positive().default(4),
    /** Key/value heads (grouped-query attention); defaults to nHeads. */
    nKvHeads: z.number().int().positive().optional(),
    /** MLP hidden size; defaults to 8/3·dim rounded up to a multiple of 32. */
    ffnDim: z.number().int().positive().optional(),
    maxSeqLen: z.number().int().positive().default(256),
    ropeTheta: z.number().positive().default(10000),
    normEps: z.number().positive().default(1e-5),
    tiedEmbeddings: z.boolean().default(false),
    /** Scalar value head on the final hidden state (the PPO critic). */
    valueHead: z.boolean().default(false),
    /** Scalar reward head on the final hidden state (Bradley–Terry reward model). */
    rewardHead: z.boolean().default(false),
  })
  .strict();

export type DecoderConfigInput = z.input<typeof DecoderConfigSchema>;

export interface DecoderConfig {
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  ffnDim: number;
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  tiedEmbeddings: boolean;
  valueHead: boolean;
  rewardHead: boolean;
  headDim: number;
}

export function decoderConfig(input: DecoderConfigInput = {}): DecoderConfig {
  const parsed = DecoderConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`decoder config: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const c = parsed.data;
  const nKvHeads = c.nKvHeads ?? c.nHeads;
  const ffnDim = c.ffnDim ?? Math.ceil((8 * c.dim) / 3 / 32) * 32;
  if (c.dim % c.nHeads !== 0)
    throw new Error(`decoder config: dim ${c.dim} is not a multiple of nHeads ${c.nHeads}`);
  const headDim = c.dim / c.nHeads;
  if (headDim % 2 !== 0)
    throw new Error(`decoder config: head dim ${headDim} must be even for rotary embeddings`);
  if (c.nHeads % nKvHeads !== 0)
    throw new Error(`decoder config: nHeads ${c.nHeads} is not a multiple of nKvHeads ${nKvHeads}`);
  return { ...c, nKvHeads, ffnDim, headDim };
}
