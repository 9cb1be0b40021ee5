// Loads a model directory's tokenizer files: tokenizer.json, tokenizer_config.json (BOS/EOS
// names, chat_template) and, as newer transformers writes it, chat_template.jinja.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../../core/errors.ts";
import { readJsonFile } from "../../io/json-file.ts";
import { BpeTokenizer } from "./bpe.ts";
import { ChatTemplate } from "./chat-template.ts";
import { HfTokenizer } from "./hf.ts";
import type { TextTokenizer } from "./types.ts";

const TokenNameSchema = z
  .union([z.string(), z.object({ content: z.string() }).transform((t) => t.content), z.null()])
  .optional()
  .transform((t) => t ?? undefined);

export const TokenizerConfigSchema = z.looseObject({
  bos_token: TokenNameSchema,
  eos_token: TokenNameSchema,
  pad_token: TokenNameSchema,
  add_bos_token: z.boolean().optional(),
  chat_template: z
    .union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))])
    .nullish(),
});
export type TokenizerConfig = z.infer<typeof TokenizerConfigSchema>;

export interface LoadedTokenizer {
  tokenizer: TextTokenizer;
  /** Which implementation encodes: our byte-level BPE, or @huggingface/tokenizers for other kinds. */
  implementation: "byte-level-bpe" | "tokenizers.js";
  chatTemplate: ChatTemplate | undefined;
  config: TokenizerConfig;
  /** Whether plain-text prompts get the post-processor's specials (BOS) prepended. */
  addSpecialTokens: boolean;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function loadTokenizerDir(dir: string): Promise<LoadedTokenizer> {
  const configPath = join(dir, "tokenizer_config.json");
  const configText = await readOptional(configPath);
  let config: TokenizerConfig = { bos_token: undefined, eos_token: undefined, pad_token: undefined };
  if (configText !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(configText);
    } catch (error) {
      throw new DataScaleError("bad_tokenizer", `${configPath}: not JSON (${(error as Error).message})`);
    }
    const parsed = TokenizerConfigSchema.safeParse(raw);
    if (!parsed.success)
      throw new DataScaleError("bad_tokenizer", `${configPath}: ${formatZodError(parsed.error)}`);
    config = parsed.data;
  }
  const tokenizerPath = join(dir, "tokenizer.json");
  const json = await readJsonFile(tokenizerPath, "bad_tokenizer");
  const tokens = { bosToken: config.bos_token, eosToken: config.eos_token, source: tokenizerPath };
  let tokenizer: TextTokenizer;
  let implementation: LoadedTokenizer["implementation"] = "byte-level-bpe";
  try {
    tokenizer = new BpeTokenizer(json, tokens);
  } catch (error) {
    if (!(error instanceof DataScaleError && error.code === "unsupported_tokenizer")) throw error;
    tokenizer = new HfTokenizer(json, { ...tokens, config });
    implementation = "tokenizers.js";
  }
  let templateSource = (await readOptional(join(dir, "chat_template.jinja"))) ?? undefined;
  if (templateSource === undefined && config.chat_template != null) {
    templateSource =
      typeof config.chat_template === "string"
        ? config.chat_template
        : (config.chat_template.find((t) => t.name === "default") ?? config.chat_template[0])?.template;
  }
  const chatTemplate =
    templateSource === undefined
      ? undefined
      : new ChatTemplate(templateSource, { bosToken: config.bos_token, eosToken: config.eos_token });
  return {
    tokenizer,
    implementation,
    chatTemplate,
    config,
    addSpecialTokens: config.add_bos_token !== false,
  };
}
