import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  type Tensor,
  writeSafetensors,
} from "../../src/model/safetensors.ts";
import { PYTHON, torchSkip } from "../fixtures/python.ts";

/** Values that exercise every corner of the float formats. */
function awkwardFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const specials = [
    0,
    -0,
    1,
    -1,
    65504,
    65520,
    1e-8,
    -6e-5,
    5.96e-8,
    3.4e38,
    Number.POSITIVE_INFINITY,
    -1e-40,
  ];
  for (let i = 0; i < count; i++) {
    out[i] = i < specials.length ? specials[i]! : (next() - 0.5) * 2 ** Math.floor(next() * 40 - 20);
  }
  return out;
}

function tensors(): Map<string, Tensor> {
  return new Map([
    ["model.embed_tokens.weight", { shape: [7, 5], data: awkwardFloats(35, 1) }],
    ["model.norm.weight", { shape: [5], data: awkwardFloats(5, 2) }],
    ["scalar", { shape: [], data: new Float32Array([3.5]) }],
    ["empty", { shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

test("F32 save → load is bit-exact, metadata kept, header 8-byte aligned", async () => {
  const dir = await mkdtemp(join(tmpdir(), "st-"));
  try {
    const path = join(dir, "model.safetensors");
    const original = tensors();
    await writeSafetensors(path, original, { metadata: { format: "pt" } });
    const loaded = await readSafetensors(path);
    assert.deepEqual(loaded.metadata, { format: "pt" });
    assert.equal(loaded.tensors.size, original.size);
    for (const [name, t] of original) {
      const got = loaded.tensors.get(name)!;
      assert.deepEqual(got.shape, t.shape, name);
      assert.deepEqual(new Uint8Array(got.data.buffer), new Uint8Array(t.data.buffer), `${name} bits`);
      assert.equal(loaded.dtypes.get(name), "F32");
    }
    const bytes = serializeSafetensors(original);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLen) % 8, 0);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("BF16 and F16: load → save again reproduces the same bytes; values within format precision", () => {
  for (const dtype of ["BF16", "F16"] as const) {
    const first = serializeSafetensors(tensors(), { dtype });
    const loaded = parseSafetensors(first);
    const second = serializeSafetensors(loaded.tensors, { dtype });
    assert.deepEqual(second, first, dtype);
    const data = loaded.tensors.get("model.norm.weight")!.data;
    const orig = tensors().get("model.norm.weight")!.data;
    for (let i = 0; i < orig.length; i++) {
      const tolerance =
        Math.abs(orig[i]!) * (dtype === "BF16" ? 2 ** -8 : 2 ** -11) + (dtype === "F16" ? 2 ** -24 : 0);
      assert.ok(Math.abs(data[i]! - orig[i]!) <= tolerance, `${dtype} ${orig[i]} → ${data[i]}`);
    }
  }
});

test("bad files give errors naming the file and tensor", () => {
  assert.throws(
    () => parseSafetensors(new Uint8Array(3), "x.safetensors"),
    /x\.safetensors: file is 3 bytes/,
  );
  const good = serializeSafetensors(tensors());
  assert.throws(
    () => parseSafetensors(good.subarray(0, good.length - 4), "t.st"),
    /t\.st: tensor '.*': data_offsets/,
  );
  const header = new TextEncoder().encode(
    JSON.stringify({ ids: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }),
  );
  const bytes = new Uint8Array(8 + header.length + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  assert.throws(
    () => parseSafetensors(bytes, "ids.st"),
    /ids\.st: tensor 'ids': dtype I64 cannot be read as floats/,
  );
  const wrongShape = new Map([["w", { shape: [2, 2], data: new Float32Array(3) }]]);
  assert.throws(
    () => serializeSafetensors(wrongShape),
    /tensor 'w': shape \[2,2\] holds 4 values but data has 3/,
  );
});

test("PyTorch reads our files and converts to bf16/f16 exactly as we do", { skip: torchSkip() }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "st-torch-"));
  try {
    const values = new Map([["v", { shape: [2000], data: awkwardFloats(2000, 7) }]]);
    await writeSafetensors(join(dir, "f32.safetensors"), values);
    await writeSafetensors(join(dir, "bf16.safetensors"), values, { dtype: "BF16" });
    await writeSafetensors(join(dir, "f16.safetensors"), values, { dtype: "F16" });
    // A minimal reader in Python, independent of ours: header JSON + torch.frombuffer.
    const script = `
import json, struct, sys, torch
def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    e = header["v"]
    b, f = e["data_offsets"]
    dt = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}[e["dtype"]]
    return torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + f]), dtype=dt)
d = sys.argv[1]
f32 = read(d + "/f32.safetensors")
ok_bf = torch.equal(f32.to(torch.bfloat16).view(torch.int16), read(d + "/bf16.safetensors").view(torch.int16))
ok_f16 = torch.equal(f32.to(torch.float16).view(torch.int16), read(d + "/f16.safetensors").view(torch.int16))
print(json.dumps({"bf16": ok_bf, "f16": ok_f16, "n": f32.numel()}))
`;
    const run = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { bf16: true, f16: true, n: 2000 });
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("tensor data at odd offsets (unpadded headers from other writers) still reads", () => {
  for (const [dtype, size] of [
    ["BF16", 2],
    ["F16", 2],
    ["F32", 4],
  ] as const) {
    const values = new Float32Array([1.5, -2.25, 1024]);
    const encoded = serializeSafetensors(new Map([["t", { shape: [3], data: values }]]), { dtype });
    const headerLen = Number(new DataView(encoded.buffer).getBigUint64(0, true));
    const data = encoded.subarray(8 + headerLen);
    let header = JSON.stringify({ t: { dtype, shape: [3], data_offsets: [0, 3 * size] } });
    if (header.length % 2 === 0) header += " ";
    const bytes = new Uint8Array(8 + header.length + data.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    bytes.set(data, 8 + header.length);
    assert.deepEqual([...parseSafetensors(bytes).tensors.get("t")!.data], [1.5, -2.25, 1024], dtype);
  }
});
