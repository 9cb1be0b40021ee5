// `datascale select --policy URL`: the policy is a real model server; K samples per prompt
// come from it, get scored, and the selection records K samples of evidence.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { EmbeddedBackend } from "../../src/backend/embedded.ts";
import { taskSampler } from "../../src/backend/task-sampler.ts";
import { type RunningModelServer, startModelServer } from "../../src/serve/model-server.ts";
import { writeTinyModel } from "../fixtures/tiny-model.ts";
import { createStepModel } from "../fixtures/zero-layer-llama.ts";

let dir: string;
let backend: EmbeddedBackend;
let server: RunningModelServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sel-policy-"));
  await writeTinyModel(join(dir, "model"));
  backend = await EmbeddedBackend.fromDirectory(join(dir, "model"), createStepModel, { name: "policy" });
  server = await startModelServer({ backend, port: 0 });
});
after(async () => {
  await server.close();
  await backend.close();
  await rm(dir, { recursive: true });
});

test("the policy SampleFn draws K seeded samples per prompt, the same on a re-run", async () => {
  const sample = taskSampler(backend, { maxTokens: 8, temperature: 1, seed: 1 });
  const tasks = [
    {
      id: "a",
      domain: "general",
      messages: [{ role: "user" as const, content: "What sound does the cat make?" }],
    },
    { id: "b", domain: "general", prompt: "The dog" },
  ];
  const first = await sample(tasks, 3);
  assert.equal(first.length, 2);
  assert.ok(first.every((s) => s.length === 3));
  assert.deepEqual(await sample(tasks, 3), first);
});

test("datascale select --policy URL samples from a model server and selects", async () => {
  const pool = join(dir, "pool.jsonl");
  const lines = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({
      id: `p${i}`,
      domain: "chat",
      prompt: `Name an animal like the ${["cat", "dog"][i % 2]}.`,
      reference: { answer: "x" },
    }),
  );
  await writeFile(pool, `${lines.join("\n")}\n`);
  const out = join(dir, "selected.jsonl");
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const args = [
    main,
    "select",
    "--pool",
    pool,
    "--out",
    out,
    "--policy",
    server.url,
    "--policy-model",
    "policy",
  ];
  const child = spawn(process.execPath, [
    ...args,
    "--samples",
    "3",
    "--keep",
    "0.5",
    "--reward",
    "exact-match",
    "--max-tokens",
    "6",
  ]);
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(code, 0, stderr);
  const selected = (await readFile(out, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { meta: { selection: { samples: number; status: string } } });
  assert.equal(selected.length, 5);
  for (const s of selected) {
    assert.equal(s.meta.selection.status, "selected");
    assert.equal(s.meta.selection.samples, 3);
  }
});
