// `npm run bench:modelio` — the hot paths around the decoder, each side by side with a
// named baseline in the same run:
//   tokenizer encode     ours (bpe.ts)              vs @huggingface/tokenizers
//   safetensors → f32    ours (bf16, f16, f32)      vs PyTorch (frombuffer + .float())
//   sampling one token   ours (top-p 0.9, V=32000)  vs PyTorch (softmax, sort, cumsum, multinomial)
//   serving              HTTP client → our server   vs the same backend called in-process
// Ends with one JSON line holding every figure.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as ReferenceTokenizer } from "@huggingface/tokenizers";
import { EmbeddedBackend } from "../src/backend/embedded.ts";
import { OpenAIBackend } from "../src/backend/openai-http.ts";
import { parseSafetensors, serializeSafetensors } from "../src/model/safetensors.ts";
import { sampleFromLogits, seededRandom } from "../src/model/sample.ts";
import { BpeTokenizer } from "../src/model/tokenizer/bpe.ts";
import { trainByteLevelBpe } from "../src/model/tokenizer/bpe-train.ts";
import { ByteTokenizer } from "../src/model/tokenizer/byte.ts";
import { startModelServer } from "../src/serve/model-server.ts";
import { bigramCheckpoint, bigramLogProbs, ZeroLayerLlama } from "../test/fixtures/zero-layer-llama.ts";

const PYTHON = "/usr/bin/python3";
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
const figures: Record<string, number | string | null> = {};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, reps: number): number {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function line(name: string, ours: number, base: number | null, unit: string, baseName: string): void {
  const ratio = base === null ? "n/a" : (base / ours).toFixed(2);
  const baseText = base === null ? `${baseName}: skipped` : `${baseName} ${base.toFixed(3)} ${unit}`;
  process.stdout.write(
    `${name.padEnd(28)} ours ${ours.toFixed(3)} ${unit}   ${baseText}   speedup ×${ratio}\n`,
  );
}

/** Text from this repository's own sources and docs: prose, code and a little unicode. */
function corpus(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|md)$/.test(name)) files.push(path);
    }
  };
  for (const dir of ["src", "docs", "test"]) if (existsSync(dir)) walk(dir);
  return files
    .sort()
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}

async function benchTokenizer(): Promise<void> {
  const text = corpus();
  const json = trainByteLevelBpe(text.split("\n").slice(0, 600), {
    vocabSize: 1024,
    specialTokens: ["<|im_start|>", "<|im_end|>"],
  });
  const mb = Buffer.byteLength(text) / 1e6;
  const ours = time(() => new BpeTokenizer(json).encode(text), 5);
  const theirs = time(
    () => new ReferenceTokenizer(json as object, {}).encode(text, { add_special_tokens: false }),
    5,
  );
  const same =
    new BpeTokenizer(json).encode(text).join() ===
    new ReferenceTokenizer(json as object, {}).encode(text, { add_special_tokens: false }).ids.join();
  line(`encode ${mb.toFixed(2)} MB (cold)`, ours, theirs, "ms", "@huggingface/tokenizers");
  figures["tokenizer_mb"] = Number(mb.toFixed(3));
  figures["tokenizer_ours_ms"] = ours;
  figures["tokenizer_ref_ms"] = theirs;
  figures["tokenizer_ours_mb_per_s"] = Number((mb / (ours / 1000)).toFixed(2));
  figures["tokenizer_speedup_vs_ref"] = Number((theirs / ours).toFixed(2));
  figures["tokenizer_ids_identical"] = same ? "yes" : "NO";
}

async function benchSafetensors(dir: string): Promise<void> {
  const n = 8 * 1024 * 1024;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 3;
  for (const dtype of ["BF16", "F16", "F32"] as const) {
    const bytes = serializeSafetensors(new Map([["w", { shape: [n], data }]]), { dtype });
    const path = join(dir, `${dtype}.safetensors`);
    await writeFile(path, bytes);
    const ours = time(() => parseSafetensors(bytes), 5);
    let torch: number | null = null;
    if (hasTorch) {
      const script = `
import json, struct, sys, time, torch
raw = open(sys.argv[1], "rb").read()
times = []
for _ in range(5):
    t0 = time.perf_counter()
    n = struct.unpack("<Q", raw[:8])[0]
    e = json.loads(raw[8:8 + n])["w"]
    b, f = e["data_offsets"]
    dt = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}[e["dtype"]]
    t = torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + f]), dtype=dt).float()
    times.append((time.perf_counter() - t0) * 1000)
print(sorted(times)[2])
`;
      const run = spawnSync(PYTHON, ["-c", script, path], { encoding: "utf8" });
      torch = run.status === 0 ? Number(run.stdout.trim()) : null;
    }
    line(`safetensors ${dtype} ${(bytes.length / 1e6).toFixed(0)} MB → f32`, ours, torch, "ms", "torch");
    figures[`safetensors_${dtype.toLowerCase()}_ours_ms`] = ours;
    figures[`safetensors_${dtype.toLowerCase()}_torch_ms`] = torch;
  }
}

async function benchSampling(): Promise<void> {
  const v = 32000;
  const rows = 200;
  const logits = new Float32Array(v * rows);
  const rand = seededRandom(1);
  // Zipf-like logits, as a language model's are: a few likely tokens, a long tail.
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < v; i++)
      logits[r * v + i] = -Math.log(1 + ((i * 7919 + r * 104729) % v)) * 1.5 + rand();
  const params = { maxTokens: 1, temperature: 0.8, topP: 0.9 };
  const random = seededRandom(2);
  const ours =
    time(() => {
      for (let r = 0; r < rows; r++) sampleFromLogits(logits.subarray(r * v, (r + 1) * v), params, random);
    }, 5) / rows;
  let torch: number | null = null;
  if (hasTorch) {
    const script = `
import time, torch
torch.manual_seed(0)
v, rows = ${v}, ${rows}
idx = torch.arange(v)
logits = torch.stack([-(torch.log1p(((idx * 7919 + r * 104729) % v).double())).float() * 1.5 + torch.rand(v) for r in range(rows)])
def sample(row):
    probs = torch.softmax(row / 0.8, dim=-1)
    sp, si = torch.sort(probs, descending=True)
    cum = torch.cumsum(sp, dim=-1)
    sp[(cum - sp) > 0.9] = 0
    return si[torch.multinomial(sp, 1)]
times = []
for _ in range(5):
    t0 = time.perf_counter()
    for r in range(rows):
        sample(logits[r])
    times.append((time.perf_counter() - t0) * 1000 / rows)
print(sorted(times)[2])
`;
    const run = spawnSync(PYTHON, ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1" },
    });
    torch = run.status === 0 ? Number(run.stdout.trim()) : null;
  }
  line("sample top-p, V=32000", ours, torch, "ms/token", "torch");
  figures["sample_topp_ours_ms"] = Number(ours.toFixed(4));
  figures["sample_topp_torch_ms"] = torch === null ? null : Number(torch.toFixed(4));
  figures["sample_speedup_vs_torch"] = torch === null ? null : Number((torch / ours).toFixed(2));
}

async function benchServing(): Promise<void> {
  const tok = new ByteTokenizer();
  const model = new ZeroLayerLlama(
    bigramCheckpoint(bigramLogProbs(tok, [corpus().slice(0, 20000)]), tok.vocabSize),
  );
  const backend = new EmbeddedBackend({ name: "bench", tokenizer: tok, model });
  const server = await startModelServer({ backend, port: 0 });
  const client = new OpenAIBackend({ baseUrl: server.url, model: "bench", concurrency: 16 });
  const requests = Array.from({ length: 64 }, (_, i) => ({
    prompt: "export function ",
    seed: i,
    maxTokens: 16,
  }));
  const run = async (b: EmbeddedBackend | OpenAIBackend) => {
    const t0 = performance.now();
    await Promise.all(requests.map((r) => b.generate([r])));
    return performance.now() - t0;
  };
  await run(backend);
  await run(client);
  const direct = median([await run(backend), await run(backend), await run(backend)]);
  const http = median([await run(client), await run(client), await run(client)]);
  await client.close();
  await server.close();
  await backend.close();
  process.stdout.write(
    `${"serve 64 req × 16 tok".padEnd(28)} http ${http.toFixed(1)} ms   in-process ${direct.toFixed(1)} ms   http overhead ×${(http / direct).toFixed(2)}\n`,
  );
  figures["serve_http_ms"] = Number(http.toFixed(1));
  figures["serve_inprocess_ms"] = Number(direct.toFixed(1));
  figures["serve_http_overhead_ratio"] = Number((http / direct).toFixed(2));
}

const dir = await mkdtemp(join(tmpdir(), "bench-modelio-"));
try {
  if (!hasTorch)
    process.stdout.write(
      "torch baselines skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch)\n",
    );
  await benchTokenizer();
  await benchSafetensors(dir);
  await benchSampling();
  await benchServing();
} finally {
  await rm(dir, { recursive: true });
}
process.stdout.write(`${JSON.stringify({ bench: "modelio", ...figures })}\n`);
