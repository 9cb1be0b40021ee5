// One contiguous buffer per role (parameters, gradients, AdamW moments), cut into named
// views in a fixed order. The same layout serves all three, so optimizer loops are flat.
import type { DecoderConfig } from "./config.ts";
import type { Arr } from "./kernels/types.ts";

export interface LayerParams<T> {
  attnNorm: T;
  wq: T;
  wk: T;
  wv: T;
  wo: T;
  mlpNorm: T;
  wGate: T;
  wUp: T;
  wDown: T;
}

export interface ParamViews<T = Arr> {
  embed: T;
  layers: LayerParams<T>[];
  finalNorm: T;
  /** Absent when embeddings are tied (the head is `embed`). */
  lmHead: T | undefined;
  valueW: T | undefined;
  valueB: T | undefined;
  rewardW: T | undefined;
  rewardB: T | undefined;
}

export interface ParamEntry {
  /** Hugging Face style name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  offset: number;
  shape: number[];
  /** Matrices get weight decay; norms, biases and heads' biases do not. */
  decay: boolean;
}

/** The parameter table: names, offsets and shapes, in buffer order. */
export function paramLayout(c: DecoderConfig): { entries: ParamEntry[]; size: number } {
  const entries: ParamEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], decay: boolean) => {
    entries.push({ name, offset, shape, decay });
    offset += shape.reduce((a, b) => a * b, 1);
  };
  const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH, ffnDim: F, vocabSize: V } = c;
  add("model.embed_tokens.weight", [V, D], true);
  for (let l = 0; l < c.nLayers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [D], false);
    add(`${p}self_attn.q_proj.weight`, [H * hd, D], true);
    add(`${p}self_attn.k_proj.weight`, [KH * hd, D], true);
    add(`${p}self_attn.v_proj.weight`, [KH * hd, D], true);
    add(`${p}self_attn.o_proj.weight`, [D, H * hd], true);
    add(`${p}post_attention_layernorm.weight`, [D], false);
    add(`${p}mlp.gate_proj.weight`, [F, D], true);
    add(`${p}mlp.up_proj.weight`, [F, D], true);
    add(`${p}mlp.down_proj.weight`, [D, F], true);
  }
  add("model.norm.weight", [D], false);
  if (!c.tiedEmbeddings) add("lm_head.weight", [V, D], true);
  if (c.valueHead) {
    add("value_head.weight", [1, D], false);
    add("value_head.bias", [1], false);
  }
  if (c.rewardHead) {
    add("reward_head.weight", [1, D], false);
    add("reward_head.bias", [1], false);
  }
  return { entries, size: offset };
}

/** Named views into `buf` (parameters, gradients or optimizer state alike). */
export function paramViews(c: DecoderConfig, buf: Arr): ParamViews {
  const { entries } = paramLayout(c);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const view = (name: string): Arr => {
    const e = byName.get(name);
    if (e === undefined) throw new Error(`no parameter ${name}`);
    return buf.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  };
  const maybe = (name: string): Arr | undefined => (byName.has(name) ? view(name) : undefined);
  const layers: LayerParams<Arr>[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `model.layers.${l}.`;
    layers.push({
      attnNorm: view(`${p}input_layernorm.weight`),
      wq: view(`${p}self_attn.q_proj.weight`),
      wk: view(`${p}self_attn.k_proj.weight`),
      wv: view(`${p}self_attn.v_proj.weight`),
      wo: view(`${p}self_attn.o_proj.weight`),
      mlpNorm: view(`${p}post_attention_layernorm.weight`),
      wGate: view(`${p}mlp.gate_proj.weight`),
      wUp: view(`${p}mlp.up_proj.weight`),
      wDown: view(`${p}mlp.down_proj.weight`),
    });
  }
  return {
    embed: view("model.embed_tokens.weight"),
    layers,
    finalNorm: view("model.norm.weight"),
    lmHead: maybe("lm_head.weight"),
    valueW: maybe("value_head.weight"),
    valueB: maybe("value_head.bias"),
    rewardW: maybe("reward_head.weight"),
    rewardB: maybe("reward_head.bias"),
  };
}
