// The main job's judges as the reward system ships them: each trained model is also written
// as a Hugging Face model directory (config.json, model.safetensors, tokenizer.json with the
// world's byte tokenizer, tokenizer_config.json with a chat template), which `openBackend`
// runs on the embedded engine — in this process on the experiment's kernel, or in
// `datascale serve-reward --config <seed>/reward.yaml` on the machine's.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EmbeddedBackend } from "../backend/embedded.ts";
import type { BackendConfig } from "../backend/open.ts";
import type { Backend } from "../backend/types.ts";
import { DataScaleError } from "../core/errors.ts";
import type { Decoder } from "../model/decoder.ts";
import { loadDecoder, saveDecoderDir } from "../model/decoder-step-model.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { ByteTokenizer } from "../model/tokenizer/byte.ts";
import { REFERENCE_GENRM_TEMPLATE } from "../train/genrm-reference.ts";

/**
 * The chat template of the world's models: BOS, then the messages' text. The world's prompts
 * carry no roles, so a judge's question (one user message) becomes BOS + the question — the
 * same ids a plain-text prompt gets from the trainers.
 */
export const WORLD_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ message['content'] }}{% endfor %}";

/** The BT RM's input: BOS, prompt, response, EOS — what train/rm.ts's default sequences hold. */
export const WORLD_BT_FORMAT = "<|bos|>{{prompt}}{{first}}<|eos|>";

/**
 * The GenRM question for the world's small judges (a 128-token context cannot hold the
 * shipped long templates): prompt, the response, the reference, "does it match?" — the
 * pointwise judge's default question in `datascale train genrm` (format: reference).
 */
export const WORLD_GENRM_TEMPLATE = REFERENCE_GENRM_TEMPLATE;

/**
 * Writes `decoder` as an HF model directory with the world's byte tokenizer and chat template
 * (the trainers' writer; BOS comes from the template and the BT format, so encoding adds none).
 */
export async function saveWorldModel(dir: string, decoder: Decoder): Promise<void> {
  saveDecoderDir(dir, decoder, new ByteTokenizer(), { chatTemplate: WORLD_CHAT_TEMPLATE, addBos: false });
  await writeFile(join(dir, "README.md"), "A DataScale main-job model (byte tokenizer, Llama layout).\n");
}

/**
 * Opens judge backends on `kernel`: the same model directory, tokenizer and chat template as
 * `openBackend`, only the compute kernel is the experiment's (so a run is deterministic in
 * its own settings) and the engine steps up to `maxBatch` sequences at once.
 */
export function worldBackendOpener(kernel: Kernel, maxBatch = 64): (c: BackendConfig) => Promise<Backend> {
  return async (c) => {
    if (c.type !== "embedded")
      throw new DataScaleError("bad_config", `the main job runs its judges in-process, not over ${c.type}`);
    return EmbeddedBackend.fromDirectory(c.model, (checkpoint) => loadDecoder(checkpoint, kernel), {
      maxBatchSequences: maxBatch,
    });
  };
}
