// `datascale serve-model --model DIR`: an OpenAI-compatible server over a checkpoint in the
// Hugging Face layout, run by the embedded engine until SIGINT/SIGTERM.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { EmbeddedBackend, type StepModelFactory } from "../backend/embedded.ts";
import { DataScaleError } from "../core/errors.ts";
import { startModelServer } from "../serve/model-server.ts";

/** The module that turns a loaded checkpoint into our decoder's StepModel. */
const DEFAULT_STEP_MODEL_MODULE = new URL("../model/decoder-step-model.ts", import.meta.url);

const HELP = `usage: datascale serve-model --model DIR [options]

Serves a model directory (config.json, model.safetensors, tokenizer.json,
tokenizer_config.json with a chat_template) — a Hugging Face checkpoint, or what
\`datascale train\` and the main job write to <runDir>/model — with the OpenAI API: GET
/v1/models, POST /v1/completions and /v1/chat/completions (logprobs, top_logprobs, n, stop,
seed, stream), and vLLM's POST /classify for a reward model (a score head). Prints the
base URL on stdout, then runs until SIGINT/SIGTERM.

options:
  --model DIR            model directory in the Hugging Face layout (required)
  --port N               port (default 8000; 0 picks a free one)
  --host HOST            address to bind (default 127.0.0.1)
  --name NAME            model name clients ask for (default: the directory's name)
  --max-batch N          most sequences stepped together (default 64)
  --model-module PATH    module exporting createStepModel(checkpoint) (default: the built-in decoder)
  --log                  one JSON line per request on stderr
`;

function positiveInt(flag: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new DataScaleError(
      "bad_option",
      `serve-model: ${flag} must be a ${allowZero ? "non-negative" : "positive"} integer`,
    );
  }
  return n;
}

async function loadFactory(specifier: string | undefined): Promise<StepModelFactory> {
  const url = specifier === undefined ? DEFAULT_STEP_MODEL_MODULE : pathToFileURL(resolve(specifier));
  let mod: { createStepModel?: unknown };
  try {
    mod = (await import(url.href)) as { createStepModel?: unknown };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && specifier === undefined) {
      throw new DataScaleError(
        "no_decoder",
        "serve-model: the embedded decoder (src/model/decoder-step-model.ts) is not in this build; pass --model-module",
      );
    }
    throw error;
  }
  if (typeof mod.createStepModel !== "function") {
    throw new DataScaleError(
      "bad_option",
      `serve-model: ${url.pathname} does not export createStepModel(checkpoint)`,
    );
  }
  return mod.createStepModel as StepModelFactory;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      name: { type: "string" },
      "max-batch": { type: "string" },
      "model-module": { type: "string" },
      log: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.model === undefined) {
    process.stderr.write(`datascale serve-model: --model is required\n\n${HELP}`);
    return 2;
  }
  const port = positiveInt("--port", values.port, 8000, true);
  const maxBatch = positiveInt("--max-batch", values["max-batch"], 64);
  const factory = await loadFactory(values["model-module"]);
  const backend = await EmbeddedBackend.fromDirectory(values.model, factory, {
    maxBatchSequences: maxBatch,
    ...(values.name === undefined ? {} : { name: values.name }),
  });
  const server = await startModelServer({
    backend,
    port,
    host: values.host,
    log: values.log ? (record) => process.stderr.write(`${JSON.stringify(record)}\n`) : undefined,
  });
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`datascale serve-model: serving '${backend.model}' at ${server.url}\n`);
  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await server.close();
  await backend.close();
  return 0;
}
