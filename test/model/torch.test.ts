// Cross-checks the engine against an independent PyTorch implementation of the same
// architecture (test/model/torch_llama.py) on identical weights: logits, loss and every
// parameter gradient. Skipped, with the reason printed, when /usr/bin/python3 lacks torch.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Decoder } from "../../src/model/decoder.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import { crossEntropyForwardBackward } from "../../src/model/layers.ts";
import { paramLayout } from "../../src/model/params.ts";
import { Rng } from "../../src/model/rng.ts";
import { PYTHON, torchSkip } from "../fixtures/python.ts";

const skip = torchSkip();
if (skip) process.stdout.write(`# torch comparison skipped: ${skip}\n`);

for (const tied of [false, true]) {
  test(`logits and gradients match PyTorch (${tied ? "tied, GQA, qkv bias" : "untied, MHA"})`, {
    skip,
  }, () => {
    const config = {
      vocabSize: 13,
      dim: 16,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: tied ? 2 : 4,
      ffnDim: 24,
      maxSeqLen: 16,
      tiedEmbeddings: tied,
      qkvBias: tied,
    };
    const m = new Decoder(config, createTsKernel("f64"), { seed: 11 });
    const rng = new Rng(5);
    for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! + 0.05 * rng.normal();
    const B = 2;
    const T = 7;
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 13));
    const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 13));
    const weights = Float64Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? 0 : rng.next() * 2 - 0.5));

    m.zeroGrad();
    const out = m.forward(ids, B, T);
    const logits = Float64Array.from(out.logits);
    const dl = new Float64Array(B * T * 13);
    const { loss } = crossEntropyForwardBackward(dl, out.logits, targets, weights, B * T, 13);
    m.backward(dl);

    const { entries } = paramLayout(m.config);
    const params: Record<string, number[]> = {};
    const shapes: Record<string, number[]> = {};
    for (const e of entries) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      params[e.name] = Array.from(m.params.subarray(e.offset, e.offset + n));
      shapes[e.name] = e.shape;
    }
    const dir = mkdtempSync(join(tmpdir(), "engine-torch-"));
    try {
      const job = join(dir, "job.json");
      writeFileSync(
        job,
        JSON.stringify({
          config: m.config,
          batch: B,
          T,
          params,
          shapes,
          ids: Array.from(ids),
          targets: Array.from(targets),
          weights: Array.from(weights),
        }),
      );
      const script = fileURLToPath(new URL("./torch_llama.py", import.meta.url));
      const r = spawnSync(PYTHON, [script, job], { encoding: "utf8", maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, `torch script failed: ${r.stderr}`);
      const ref = JSON.parse(r.stdout) as { loss: number; logits: number[]; grads: Record<string, number[]> };
      assert.ok(Math.abs(ref.loss - loss) < 1e-9, `loss ${loss} vs torch ${ref.loss}`);
      let worst = 0;
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - ref.logits[i]!));
      assert.ok(worst < 1e-9, `logits differ from torch by ${worst}`);
      for (const e of entries) {
        const g = ref.grads[e.name]!;
        let err = 0;
        let scale = 1e-12;
        for (let i = 0; i < g.length; i++) {
          err = Math.max(err, Math.abs(m.grads[e.offset + i]! - g[i]!));
          scale = Math.max(scale, Math.abs(g[i]!));
        }
        assert.ok(err / scale < 1e-8, `${e.name}: gradient differs from torch by ${err} (scale ${scale})`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
