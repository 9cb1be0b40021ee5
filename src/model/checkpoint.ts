// Checkpoints in the Hugging Face layout (config.json + model.safetensors [+ shards] +
// tokenizer files) ↔ a neutral {config, tensors} structure the decoder loads. Llama,
// Mistral, Qwen2 and SmolLM share one tensor layout; only Qwen2 adds q/k/v biases.
//
// Neutral tensor names (PyTorch Linear layout, [out, in], row-major):
//   embed [vocab, dim]                      ← model.embed_tokens.weight
//   layers.N.attn_norm [dim]                ← model.layers.N.input_layernorm.weight
//   layers.N.wq [heads*headDim, dim]        ← model.layers.N.self_attn.q_proj.weight (and wk, wv)
//   layers.N.bq [heads*headDim]             ← model.layers.N.self_attn.q_proj.bias (Qwen2; and bk, bv)
//   layers.N.wo [dim, heads*headDim]        ← model.layers.N.self_attn.o_proj.weight
//   layers.N.mlp_norm [dim]                 ← model.layers.N.post_attention_layernorm.weight
//   layers.N.w_gate, w_up [ffn, dim]; w_down [dim, ffn] ← model.layers.N.mlp.{gate,up,down}_proj.weight
//   final_norm [dim]                        ← model.norm.weight
//   lm_head [vocab, dim]                    ← lm_head.weight (absent when tieEmbeddings)
//   score [1, dim] ← score.weight (transformers' *ForSequenceClassification head, num_labels 1: a
//   Bradley–Terry reward model); value_head.weight [1, dim], value_head.bias [1] and
//   reward_head.bias [1] have no place in a transformers class and live in heads.safetensors.
// q/k weights are stored as HF stores them: rows ordered for the "rotate_half" RoPE (pairs
// (i, i + headDim/2)). A decoder with interleaved RoPE permutes them (see `interleaveRopeRows`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { readJsonFileSync } from "../io/json-file.ts";
import type { DecoderConfigInput } from "./config.ts";
import { parseSafetensors, type StoredDtype, serializeSafetensors, type Tensor } from "./safetensors.ts";

/** Tensors no transformers class has (value heads, a reward bias), beside model.safetensors. */
export const HEADS_FILE = "heads.safetensors";

export interface CheckpointConfig {
  architecture: "llama" | "qwen2" | "mistral";
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ffnDim: number;
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  tieEmbeddings: boolean;
  /** q/k/v projections have biases (always for Qwen2; `attention_bias` for Llama). */
  qkvBias: boolean;
  /** HF `rope_scaling` as given (e.g. Llama 3.1's "llama3" scaling); null when absent. */
  ropeScaling: Record<string, unknown> | null;
  bosTokenId: number | undefined;
  eosTokenIds: number[];
  /** The padding id; a sequence classifier reads the last token that is not this one. */
  padTokenId?: number | undefined;
}

export interface Checkpoint {
  config: CheckpointConfig;
  tensors: Map<string, Tensor>;
  /** Tensors in the files that this mapping does not use (e.g. rotary inv_freq buffers). */
  ignored: string[];
}

const HfConfigSchema = z.looseObject({
  model_type: z.enum(["llama", "qwen2", "mistral"], {
    error: (issue) =>
      `unsupported model_type ${JSON.stringify(issue.input)} (supported: llama, qwen2, mistral)`,
  }),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().nonnegative(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  max_position_embeddings: z.number().int().positive().default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  hidden_act: z.string().default("silu"),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
  pad_token_id: z.number().int().nullish(),
});
export type HfConfig = z.infer<typeof HfConfigSchema>;

/** Maps a parsed HF config.json to our config; `source` names the file in errors. */
export function configFromHf(raw: unknown, source = "config.json"): CheckpointConfig {
  if (typeof raw === "object" && raw !== null && !("model_type" in raw) && "dim" in raw && "nLayers" in raw) {
    throw new DataScaleError(
      "bad_config",
      `${source}: a DataScale model directory from before models were saved in the Hugging Face layout (config.json + params.bin); the trainers still load it (--init), and saveModel(dir, loadDecoder(old, {})) re-saves it in the HF layout (docs/model-io.md)`,
    );
  }
  const parsed = HfConfigSchema.safeParse(raw);
  if (!parsed.success) throw new DataScaleError("bad_config", `${source}: ${formatZodError(parsed.error)}`);
  const c = parsed.data;
  if (c.hidden_act !== "silu") {
    throw new DataScaleError(
      "bad_config",
      `${source}: hidden_act '${c.hidden_act}' is not supported (only silu)`,
    );
  }
  if (c.mlp_bias) throw new DataScaleError("bad_config", `${source}: mlp_bias is not supported`);
  const nKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % nKvHeads !== 0) {
    throw new DataScaleError(
      "bad_config",
      `${source}: num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${nKvHeads}`,
    );
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim)) {
    throw new DataScaleError("bad_config", `${source}: hidden_size is not divisible by num_attention_heads`);
  }
  const eos = c.eos_token_id;
  return {
    architecture: c.model_type,
    vocabSize: c.vocab_size,
    dim: c.hidden_size,
    nLayers: c.num_hidden_layers,
    nHeads: c.num_attention_heads,
    nKvHeads,
    headDim,
    ffnDim: c.intermediate_size,
    maxSeqLen: c.max_position_embeddings,
    ropeTheta: c.rope_theta,
    normEps: c.rms_norm_eps,
    // transformers' default for tie_word_embeddings is true for Qwen2 and false for Llama/Mistral.
    tieEmbeddings: c.tie_word_embeddings ?? c.model_type === "qwen2",
    qkvBias: c.model_type === "qwen2" || c.attention_bias === true,
    ropeScaling: c.rope_scaling ?? null,
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenIds: eos === null || eos === undefined ? [] : Array.isArray(eos) ? eos : [eos],
    ...(c.pad_token_id === null || c.pad_token_id === undefined ? {} : { padTokenId: c.pad_token_id }),
  };
}

/**
 * Our config as an HF config.json that transformers loads: a causal LM, or with
 * `classifier` (a `score` head) a one-label sequence classifier (e.g.
 * LlamaForSequenceClassification), as a Bradley–Terry reward model is served.
 */
export function configToHf(
  config: CheckpointConfig,
  options: { classifier?: boolean } = {},
): Record<string, unknown> {
  const family = { llama: "Llama", qwen2: "Qwen2", mistral: "Mistral" }[config.architecture];
  const out: Record<string, unknown> = {
    architectures: [`${family}${options.classifier ? "ForSequenceClassification" : "ForCausalLM"}`],
    model_type: config.architecture,
    vocab_size: config.vocabSize,
    hidden_size: config.dim,
    intermediate_size: config.ffnDim,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    head_dim: config.headDim,
    max_position_embeddings: config.maxSeqLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling: config.ropeScaling,
    tie_word_embeddings: config.tieEmbeddings,
    hidden_act: "silu",
    mlp_bias: false,
    torch_dtype: "float32",
  };
  if (config.architecture !== "qwen2") out["attention_bias"] = config.qkvBias;
  if (config.padTokenId !== undefined) out["pad_token_id"] = config.padTokenId;
  if (options.classifier) {
    out["num_labels"] = 1;
    out["id2label"] = { "0": "LABEL_0" };
    out["label2id"] = { LABEL_0: 0 };
  }
  if (config.bosTokenId !== undefined) out["bos_token_id"] = config.bosTokenId;
  if (config.eosTokenIds.length > 0) {
    out["eos_token_id"] = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds;
  }
  return out;
}

const LAYER_NAMES: [hf: string, ours: string][] = [
  ["input_layernorm.weight", "attn_norm"],
  ["self_attn.q_proj.weight", "wq"],
  ["self_attn.k_proj.weight", "wk"],
  ["self_attn.v_proj.weight", "wv"],
  ["self_attn.q_proj.bias", "bq"],
  ["self_attn.k_proj.bias", "bk"],
  ["self_attn.v_proj.bias", "bv"],
  ["self_attn.o_proj.weight", "wo"],
  ["post_attention_layernorm.weight", "mlp_norm"],
  ["mlp.gate_proj.weight", "w_gate"],
  ["mlp.up_proj.weight", "w_up"],
  ["mlp.down_proj.weight", "w_down"],
];
const TOP_NAMES: [hf: string, ours: string][] = [
  ["model.embed_tokens.weight", "embed"],
  ["model.norm.weight", "final_norm"],
  ["lm_head.weight", "lm_head"],
  ["score.weight", "score"],
  ["value_head.weight", "value_head.weight"],
  ["value_head.bias", "value_head.bias"],
  ["reward_head.weight", "reward_head.weight"],
  ["reward_head.bias", "reward_head.bias"],
];

/** HF tensor name → neutral name, or undefined for tensors we do not use. */
export function neutralName(hfName: string): string | undefined {
  const top = TOP_NAMES.find(([hf]) => hf === hfName);
  if (top !== undefined) return top[1];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  if (m === null) return undefined;
  const layer = LAYER_NAMES.find(([hf]) => hf === m[2]);
  return layer === undefined ? undefined : `layers.${m[1]}.${layer[1]}`;
}

/** Neutral name → HF tensor name. */
export function hfName(neutral: string): string {
  const top = TOP_NAMES.find(([, ours]) => ours === neutral);
  if (top !== undefined) return top[0];
  const m = /^layers\.(\d+)\.(.+)$/.exec(neutral);
  const layer = m === null ? undefined : LAYER_NAMES.find(([, ours]) => ours === m[2]);
  if (m === null || layer === undefined) {
    throw new DataScaleError("bad_tensor", `tensor '${neutral}' has no Hugging Face name`);
  }
  return `model.layers.${m[1]}.${layer[0]}`;
}

/** The shape every tensor must have under `config`; heads are optional. */
export function expectedShapes(config: CheckpointConfig): Map<string, number[]> {
  const { vocabSize: v, dim: d, nHeads, nKvHeads, headDim, ffnDim: f } = config;
  const q = nHeads * headDim;
  const kv = nKvHeads * headDim;
  const shapes = new Map<string, number[]>([
    ["embed", [v, d]],
    ["final_norm", [d]],
  ]);
  if (!config.tieEmbeddings) shapes.set("lm_head", [v, d]);
  for (let i = 0; i < config.nLayers; i++) {
    const p = `layers.${i}.`;
    shapes.set(`${p}attn_norm`, [d]);
    shapes.set(`${p}wq`, [q, d]);
    shapes.set(`${p}wk`, [kv, d]);
    shapes.set(`${p}wv`, [kv, d]);
    if (config.qkvBias) {
      shapes.set(`${p}bq`, [q]);
      shapes.set(`${p}bk`, [kv]);
      shapes.set(`${p}bv`, [kv]);
    }
    shapes.set(`${p}wo`, [d, q]);
    shapes.set(`${p}mlp_norm`, [d]);
    shapes.set(`${p}w_gate`, [f, d]);
    shapes.set(`${p}w_up`, [f, d]);
    shapes.set(`${p}w_down`, [d, f]);
  }
  return shapes;
}

const OPTIONAL_SHAPES = (d: number): Map<string, number[]> =>
  new Map([
    ["score", [1, d]],
    ["value_head.weight", [1, d]],
    ["value_head.bias", [1]],
    ["reward_head.weight", [1, d]],
    ["reward_head.bias", [1]],
  ]);

/** Checks names and shapes against the config; throws naming the first bad tensor. */
export function validateTensors(
  config: CheckpointConfig,
  tensors: Map<string, Tensor>,
  source: string,
): void {
  const expected = expectedShapes(config);
  const optional = OPTIONAL_SHAPES(config.dim);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (t === undefined) {
      const hint = name === "lm_head" ? " (config says tie_word_embeddings: false)" : "";
      throw new DataScaleError("bad_checkpoint", `${source}: missing tensor '${hfName(name)}'${hint}`);
    }
    if (t.shape.join(",") !== shape.join(",")) {
      throw new DataScaleError(
        "bad_checkpoint",
        `${source}: tensor '${hfName(name)}' has shape [${t.shape}], config.json implies [${shape}]`,
      );
    }
  }
  for (const [name, t] of tensors) {
    if (expected.has(name)) continue;
    const shape = optional.get(name);
    if (shape === undefined)
      throw new DataScaleError("bad_checkpoint", `${source}: unexpected tensor '${name}'`);
    if (t.shape.join(",") !== shape.join(",")) {
      throw new DataScaleError(
        "bad_checkpoint",
        `${source}: tensor '${hfName(name)}' has shape [${t.shape}], expected [${shape}]`,
      );
    }
  }
}

const ShardIndexSchema = z.object({ weight_map: z.record(z.string(), z.string()) });

function readTensorFile(path: string) {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataScaleError("not_found", `${path}: cannot read (${(error as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/**
 * Loads config.json and model.safetensors (or the shards of model.safetensors.index.json),
 * plus heads.safetensors when present.
 */
export function loadCheckpointSync(dir: string): Checkpoint {
  const configPath = join(dir, "config.json");
  const config = configFromHf(readJsonFileSync(configPath, "bad_checkpoint"), configPath);
  let files = ["model.safetensors"];
  const indexPath = join(dir, "model.safetensors.index.json");
  if (existsSync(indexPath)) {
    const parsed = ShardIndexSchema.safeParse(readJsonFileSync(indexPath, "bad_checkpoint"));
    if (!parsed.success)
      throw new DataScaleError("bad_checkpoint", `${indexPath}: ${formatZodError(parsed.error)}`);
    files = [...new Set(Object.values(parsed.data.weight_map))].sort();
  }
  if (existsSync(join(dir, HEADS_FILE))) files.push(HEADS_FILE);
  const tensors = new Map<string, Tensor>();
  const ignored: string[] = [];
  for (const file of files) {
    const loaded = readTensorFile(join(dir, file));
    for (const [name, tensor] of loaded.tensors) {
      const neutral = neutralName(name);
      if (neutral === undefined) ignored.push(name);
      else tensors.set(neutral, tensor);
    }
  }
  // Some tied checkpoints (e.g. SmolLM) still store lm_head; drop it only if it is the embedding.
  if (config.tieEmbeddings && tensors.has("lm_head")) {
    ignored.push("lm_head.weight");
    tensors.delete("lm_head");
  }
  // A sequence classifier saved by transformers (a reward model) has a score head and no LM
  // head: give it a zero one, so it loads for /classify (its completions mean nothing).
  if (!config.tieEmbeddings && tensors.has("score") && !tensors.has("lm_head")) {
    tensors.set("lm_head", {
      shape: [config.vocabSize, config.dim],
      data: new Float32Array(config.vocabSize * config.dim),
    });
  }
  validateTensors(config, tensors, dir);
  return { config, tensors, ignored };
}

/** `loadCheckpointSync` for async callers. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  return loadCheckpointSync(dir);
}

export interface SaveCheckpointOptions {
  /** On-disk dtype (default F32: bit-exact). */
  dtype?: StoredDtype;
  /** tokenizer.json / tokenizer_config.json contents to write alongside. */
  tokenizerJson?: unknown;
  tokenizerConfig?: Record<string, unknown>;
  /** Extra generation_config.json fields. */
  generationConfig?: Record<string, unknown>;
}

/** Neutral names that go to heads.safetensors rather than model.safetensors. */
const HEAD_ONLY = new Set(["value_head.weight", "value_head.bias", "reward_head.weight", "reward_head.bias"]);

/**
 * Writes config.json + model.safetensors (+ heads.safetensors, tokenizer files,
 * generation_config.json) that transformers can load: model.safetensors holds only tensors
 * of the transformers class named in config.json (a `score` head makes it a sequence
 * classifier), so strict loaders (vLLM) find no stray names.
 */
export function saveCheckpointSync(
  dir: string,
  checkpoint: { config: CheckpointConfig; tensors: Map<string, Tensor> },
  options: SaveCheckpointOptions = {},
): void {
  validateTensors(checkpoint.config, checkpoint.tensors, "saveCheckpoint");
  mkdirSync(dir, { recursive: true });
  const main = new Map<string, Tensor>();
  const heads = new Map<string, Tensor>();
  for (const [name, t] of checkpoint.tensors) (HEAD_ONLY.has(name) ? heads : main).set(hfName(name), t);
  const config = configToHf(checkpoint.config, { classifier: checkpoint.tensors.has("score") });
  if (options.dtype !== undefined)
    config["torch_dtype"] = { F32: "float32", BF16: "bfloat16", F16: "float16" }[options.dtype];
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const dtype = options.dtype ?? "F32";
  writeFileSync(
    join(dir, "model.safetensors"),
    serializeSafetensors(main, { dtype, metadata: { format: "pt" } }),
  );
  if (heads.size > 0)
    writeFileSync(join(dir, HEADS_FILE), serializeSafetensors(heads, { dtype, metadata: { format: "pt" } }));
  if (options.tokenizerJson !== undefined)
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(options.tokenizerJson));
  if (options.tokenizerConfig !== undefined) {
    writeFileSync(
      join(dir, "tokenizer_config.json"),
      `${JSON.stringify(options.tokenizerConfig, null, 2)}\n`,
    );
  }
  const generation: Record<string, unknown> = { ...options.generationConfig };
  const c = checkpoint.config;
  if (c.bosTokenId !== undefined) generation["bos_token_id"] ??= c.bosTokenId;
  if (c.eosTokenIds.length > 0) generation["eos_token_id"] ??= c.eosTokenIds;
  if (c.padTokenId !== undefined) generation["pad_token_id"] ??= c.padTokenId;
  writeFileSync(join(dir, "generation_config.json"), `${JSON.stringify(generation, null, 2)}\n`);
}

/** `saveCheckpointSync` for async callers. */
export async function saveCheckpoint(
  dir: string,
  checkpoint: { config: CheckpointConfig; tensors: Map<string, Tensor> },
  options: SaveCheckpointOptions = {},
): Promise<void> {
  saveCheckpointSync(dir, checkpoint, options);
}

/**
 * Reorders q/k projection rows from HF's rotate_half RoPE layout to the interleaved
 * (GPT-J / Meta) layout, for a decoder that rotates adjacent pairs. `inverse` undoes it.
 */
export function interleaveRopeRows(
  weight: Float32Array,
  nHeads: number,
  headDim: number,
  cols: number,
  inverse = false,
): Float32Array {
  const out = new Float32Array(weight.length);
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (const [hfRow, ilRow] of [
        [i, 2 * i],
        [half + i, 2 * i + 1],
      ] as const) {
        const from = (h * headDim + (inverse ? ilRow : hfRow)) * cols;
        const to = (h * headDim + (inverse ? hfRow : ilRow)) * cols;
        out.set(weight.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/**
 * Copies checkpoint tensors into a model's named parameter views (the neutral names above),
 * e.g. views into one contiguous parameter buffer. Every view must be filled, every tensor
 * used, and sizes must agree; the error names the first that does not.
 */
export function copyIntoViews(
  tensors: ReadonlyMap<string, Tensor>,
  views: ReadonlyMap<string, Float32Array>,
  options: { optional?: readonly string[] } = {},
): void {
  const optional = new Set(options.optional ?? []);
  for (const [name, view] of views) {
    const t = tensors.get(name);
    if (t === undefined) {
      if (optional.has(name)) continue;
      throw new DataScaleError("bad_checkpoint", `the checkpoint has no tensor for parameter '${name}'`);
    }
    if (t.data.length !== view.length) {
      throw new DataScaleError(
        "bad_checkpoint",
        `tensor '${name}' [${t.shape}] has ${t.data.length} values; the parameter view holds ${view.length}`,
      );
    }
    view.set(t.data);
  }
  for (const name of tensors.keys()) {
    if (!views.has(name))
      throw new DataScaleError("bad_checkpoint", `tensor '${name}' has no parameter to load into`);
  }
}

/** Copies a model's named parameter views into tensors shaped by `config`, for `saveCheckpoint`. */
export function tensorsFromViews(
  config: CheckpointConfig,
  views: ReadonlyMap<string, Float32Array>,
): Map<string, Tensor> {
  const shapes = new Map([...expectedShapes(config), ...OPTIONAL_SHAPES(config.dim)]);
  const out = new Map<string, Tensor>();
  for (const [name, view] of views) {
    const shape = shapes.get(name);
    if (shape === undefined)
      throw new DataScaleError("bad_tensor", `parameter '${name}' has no checkpoint name`);
    out.set(name, { shape, data: Float32Array.from(view) });
  }
  return out;
}

/** The same tensors keyed by their Hugging Face names (the engine's parameter table uses them). */
export function withHfNames(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  return new Map([...tensors].map(([name, t]) => [hfName(name), t]));
}

/** Tensors keyed by Hugging Face names → neutral names; throws naming a tensor it does not know. */
export function fromHfNames(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    const neutral = neutralName(name);
    if (neutral === undefined) throw new DataScaleError("bad_tensor", `tensor '${name}' has no neutral name`);
    out.set(neutral, t);
  }
  return out;
}

/**
 * The checkpoint's config as the engine decoder's config input (src/model/config.ts). Throws
 * naming what that decoder cannot run: a head_dim other than dim / heads, RoPE scaling.
 */
export function engineConfigInput(checkpoint: Checkpoint): DecoderConfigInput {
  const c = checkpoint.config;
  const unsupported = (what: string) => {
    throw new DataScaleError("unsupported_model", `the embedded decoder does not implement ${what}`);
  };
  if (c.headDim * c.nHeads !== c.dim) unsupported(`head_dim ${c.headDim} ≠ hidden_size / heads`);
  if (c.ropeScaling !== null) unsupported(`rope_scaling ${JSON.stringify(c.ropeScaling)}`);
  // Qwen2's q/k/v biases the decoder has; Llama's attention_bias also biases o_proj, which it has not.
  if (c.architecture !== "qwen2" && c.qkvBias) unsupported("attention_bias (it biases o_proj too)");
  return {
    vocabSize: c.vocabSize,
    dim: c.dim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    ffnDim: c.ffnDim,
    maxSeqLen: c.maxSeqLen,
    ropeTheta: c.ropeTheta,
    normEps: c.normEps,
    tiedEmbeddings: c.tieEmbeddings,
    qkvBias: c.qkvBias,
    valueHead: checkpoint.tensors.has("value_head.weight"),
    rewardHead: checkpoint.tensors.has("score") || checkpoint.tensors.has("reward_head.weight"),
  };
}
