// Builds the judges a reward config names: their backends, caches and options.
import { readFile } from "node:fs/promises";
import { OpenAIBackend } from "../backend/openai-http.ts";
import type { Backend } from "../backend/types.ts";
import { DataScaleError } from "../core/errors.ts";
import type { BackendConfig, JudgeConfig } from "../reward/config.ts";
import { verdictsFrom } from "./backend-verdicts.ts";
import { JudgeCache } from "./cache.ts";
import { GenRM } from "./genrm.ts";
import type { Judge } from "./types.ts";

/** Opens an embedded model directory as a Backend (supplied once the engine is wired in). */
export type EmbeddedOpener = (dir: string) => Promise<Backend>;

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

export async function openBackend(config: BackendConfig, openEmbedded?: EmbeddedOpener): Promise<Backend> {
  if (config.type === "openai") {
    return new OpenAIBackend({
      // Users write OpenAI-style base URLs (http://host:8000/v1); the client wants the server root.
      baseUrl: config.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, ""),
      model: config.model,
      apiKey: apiKey(config.apiKey),
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      maxRetries: config.retries,
    });
  }
  if (openEmbedded === undefined) {
    throw new DataScaleError(
      "bad_config",
      `backend.model ${config.model}: embedded backends are not available in this command`,
    );
  }
  return openEmbedded(config.model);
}

export async function makeJudge(
  name: string,
  config: JudgeConfig,
  openEmbedded?: EmbeddedOpener,
): Promise<Judge> {
  const backend = await openBackend(config.backend, openEmbedded);
  const cache = config.cache === undefined ? undefined : new JudgeCache(config.cache);
  if (config.kind === "genrm") {
    const templates: { gt?: string; bon?: string } = {};
    for (const kind of ["gt", "bon"] as const) {
      const path = config.templates[kind];
      if (path === undefined) continue;
      try {
        templates[kind] = await readFile(path, "utf8");
      } catch (e) {
        throw new DataScaleError(
          "bad_config",
          `judges.${name}.templates.${kind}: ${e instanceof Error ? e.message : e}`,
        );
      }
    }
    const genrm = new GenRM({
      backend: verdictsFrom(backend),
      bothOrders: config.bothOrders,
      samples: config.samples,
      cache,
      templates,
    });
    return {
      source: genrm.source,
      judge: (rollouts, kind) => genrm.judge(rollouts, kind),
      close: async () => {
        await genrm.close();
        await backend.close();
      },
    };
  }
  await backend.close();
  cache?.close();
  throw new DataScaleError("bad_config", `judges.${name}: Bradley–Terry judges are not available yet`);
}
