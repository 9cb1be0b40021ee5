import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { writeTinyModel } from "../fixtures/tiny-model.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const FIXTURE = new URL("../fixtures/zero-layer-llama.ts", import.meta.url).pathname;

test("datascale serve-model serves a model directory until SIGTERM", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cli-serve-"));
  try {
    await writeTinyModel(dir);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "serve-model",
        "--model",
        dir,
        "--port",
        "0",
        "--name",
        "tiny",
        "--model-module",
        FIXTURE,
        "--log",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
      assert.match(line, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const models = (await (await fetch(`${line}/models`)).json()) as { data: { id: string }[] };
      assert.equal(models.data[0]!.id, "tiny");
      const res = await fetch(`${line}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny",
          messages: [{ role: "user", content: "Name an animal." }],
          seed: 1,
        }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      assert.equal(typeof body.choices[0]!.message.content, "string");
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"path":"\/v1\/chat\/completions","status":200/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("datascale serve-model explains missing flags and a missing decoder", async () => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [MAIN, "serve-model", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const [code] = await once(child, "exit");
    return { code, err };
  };
  const noModel = await run([]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.err, /--model is required/);
  const badPort = await run(["--model", "x", "--port", "80.5"]);
  assert.match(badPort.err, /--port must be a non-negative integer/);
  const missing = await run(["--model", "/nonexistent", "--model-module", FIXTURE]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\/nonexistent\/config\.json: cannot read/);
  // Until the decoder is wired in, the default model module is absent and says so.
  if (!existsSync(new URL("../../src/model/decoder-step-model.ts", import.meta.url))) {
    const noDecoder = await run(["--model", "/nonexistent"]);
    assert.match(
      noDecoder.err,
      /embedded decoder \(src\/model\/decoder-step-model\.ts\) is not in this build/,
    );
  }
});
