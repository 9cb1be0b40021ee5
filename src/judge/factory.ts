// Builds the judges a reward config names: their backends, caches and options.
import { readFile } from "node:fs/promises";
import { EmbeddedBackend } from "../backend/embedded.ts";
import { type BackendConfig, openBackend } from "../backend/open.ts";
import type { Backend } from "../backend/types.ts";
import { DataScaleError } from "../core/errors.ts";
import type { JudgeConfig } from "../reward/config.ts";
import { verdictsFrom } from "./backend-verdicts.ts";
import { BTJudge } from "./bt.ts";
import { JudgeCache } from "./cache.ts";
import { GenRM } from "./genrm.ts";
import type { Judge } from "./types.ts";

export interface MakeJudgeOptions {
  /**
   * Opens a judge's backend (default `openBackend`); the main job passes one that runs the
   * same model directory on its own compute kernel.
   */
  openBackend?: (config: BackendConfig) => Promise<Backend>;
}

export async function makeJudge(
  name: string,
  config: JudgeConfig,
  options: MakeJudgeOptions = {},
): Promise<Judge> {
  const backend = await (options.openBackend ?? openBackend)(config.backend);
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
    const cache = config.cache === undefined ? undefined : new JudgeCache(config.cache);
    const genrm = new GenRM({
      backend: verdictsFrom(backend, { batched: backend instanceof EmbeddedBackend }),
      bothOrders: config.bothOrders,
      samples: config.samples,
      ...(config.topK === undefined ? {} : { topK: config.topK }),
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
  try {
    return new BTJudge(
      backend,
      config.format,
      config.cache === undefined ? undefined : new JudgeCache(config.cache),
    );
  } catch (e) {
    await backend.close();
    throw new DataScaleError("bad_config", `judges.${name}: ${e instanceof Error ? e.message : e}`);
  }
}
