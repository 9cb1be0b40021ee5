// Opening a Backend from configuration: an OpenAI-compatible server (vLLM, SGLang,
// llama.cpp, OpenAI, our own serve-model) or an HF-layout model directory run in-process on
// the embedded engine.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DataScaleError } from "../core/errors.ts";
import { createStepModel } from "../model/decoder-step-model.ts";
import { EmbeddedBackend } from "./embedded.ts";
import { OpenAIBackend } from "./openai-http.ts";
import type { Backend } from "./types.ts";

export const BackendConfig = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("openai"),
    baseUrl: z.url(),
    model: z.string().min(1),
    /** The API key, or `env:NAME` to read it from the environment. */
    apiKey: z.string().optional(),
    concurrency: z.number().int().positive().default(16),
    timeoutMs: z.number().int().positive().default(60_000),
    retries: z.number().int().nonnegative().default(3),
  }),
  /** `model` is an HF-layout directory (config.json, model.safetensors, tokenizer files). */
  z.object({ type: z.literal("embedded"), model: z.string().min(1) }),
]);
export type BackendConfig = z.infer<typeof BackendConfig>;
export type BackendConfigInput = z.input<typeof BackendConfig>;

function apiKey(spec: string | undefined): string | undefined {
  if (spec?.startsWith("env:")) {
    const name = spec.slice(4);
    const value = process.env[name];
    if (value === undefined)
      throw new DataScaleError("bad_config", `apiKey: environment variable ${name} is not set`);
    return value;
  }
  return spec;
}

export async function openBackend(input: BackendConfigInput): Promise<Backend> {
  const config = BackendConfig.parse(input);
  if (config.type === "openai") {
    return new OpenAIBackend({
      // OpenAI-style base URL, e.g. http://host:8000/v1.
      baseUrl: config.baseUrl,
      model: config.model,
      apiKey: apiKey(config.apiKey),
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      maxRetries: config.retries,
    });
  }
  if (!existsSync(join(config.model, "config.json"))) {
    throw new DataScaleError(
      "bad_config",
      `backend.model ${config.model}: not a model directory (no config.json)`,
    );
  }
  return EmbeddedBackend.fromDirectory(config.model, createStepModel);
}

/**
 * A backend from a command-line spec: an http(s) URL of an OpenAI-compatible server (with
 * `model` naming the served model), or a model directory.
 */
export function backendSpec(spec: string, model: string | undefined): BackendConfigInput {
  if (/^https?:\/\//.test(spec)) {
    if (model === undefined)
      throw new DataScaleError("bad_config", `${spec}: name the served model (--policy-model)`);
    return { type: "openai", baseUrl: spec, model };
  }
  if (existsSync(spec) && statSync(spec).isDirectory()) return { type: "embedded", model: spec };
  throw new DataScaleError("bad_config", `${spec}: neither an http(s) URL nor a model directory`);
}
