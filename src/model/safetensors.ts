// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the
// raw little-endian tensor bytes. We read F32/F16/BF16/F64 into Float32Array (the decoder
// computes in f32) and write F32 (bit-exact), BF16 or F16.
import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";

export type StoredDtype = "F32" | "F16" | "BF16";

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  /** The dtype each tensor had on disk. */
  dtypes: Map<string, string>;
  metadata: Record<string, string>;
}

const READABLE_DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
const ALL_DTYPE_SIZES: Record<string, number> = {
  ...READABLE_DTYPES,
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

const TensorEntry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
const Metadata = z.record(z.string(), z.string());

/** A header bigger than this is a corrupt file, not a model (the reference reader uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** f16 bit pattern → f32 value, for all 65536 patterns; built once, never written after. */
const F16_TO_F32: Float32Array = buildF16Table();

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return table;
}

function fail(source: string, message: string): never {
  throw new DataScaleError("bad_safetensors", `${source}: ${message}`);
}

/** Parses a safetensors buffer; every tensor is converted to a fresh Float32Array. */
export function parseSafetensors(bytes: Uint8Array, source = "safetensors"): SafetensorsFile {
  if (bytes.byteLength < 8)
    fail(source, `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
    fail(source, `header length ${headerLen} does not fit in a ${bytes.byteLength}-byte file`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (error) {
    fail(source, `header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail(source, "header is not an object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, string>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      const parsed = Metadata.safeParse(raw);
      if (!parsed.success) fail(source, `__metadata__: ${formatZodError(parsed.error)}`);
      metadata = parsed.data;
      continue;
    }
    const parsed = TensorEntry.safeParse(raw);
    if (!parsed.success) fail(source, `tensor '${name}': ${formatZodError(parsed.error)}`);
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = parsed.data;
    const size = ALL_DTYPE_SIZES[dtype];
    if (size === undefined) fail(source, `tensor '${name}': unknown dtype '${dtype}'`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen)
      fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] out of range`);
    if (end - begin !== count * size) {
      fail(
        source,
        `tensor '${name}': shape [${shape}] of ${dtype} needs ${count * size} bytes, offsets give ${end - begin}`,
      );
    }
    if (READABLE_DTYPES[dtype] === undefined) {
      fail(
        source,
        `tensor '${name}': dtype ${dtype} cannot be read as floats (supported: F32, F16, BF16, F64)`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      shape,
      data: decodeFloats(bytes.subarray(dataStart + begin, dataStart + end), dtype, count),
    });
    dtypes.set(name, dtype);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur[0] < prev[1] && cur[1] > cur[0]) fail(source, `tensors '${prev[2]}' and '${cur[2]}' overlap`);
  }
  return { tensors, dtypes, metadata };
}

function decodeFloats(raw: Uint8Array, dtype: string, count: number): Float32Array {
  if (dtype === "F32" && LITTLE_ENDIAN) return new Float32Array(new Uint8Array(raw).buffer); // a copy (Buffer#slice would not copy)
  const out = new Float32Array(count);
  if (dtype === "F32" || dtype === "F64") {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (dtype === "F32") for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
    else for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
    return out;
  }
  // Read halves in place when aligned; tensor data in a file need not be 2-byte aligned.
  const halves = !LITTLE_ENDIAN
    ? swap16(raw)
    : raw.byteOffset % 2 === 0
      ? new Uint16Array(raw.buffer, raw.byteOffset, count)
      : new Uint16Array(new Uint8Array(raw).buffer);
  if (dtype === "F16") {
    for (let i = 0; i < count; i++) out[i] = F16_TO_F32[halves[i]!]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swap16(raw: Uint8Array): Uint16Array {
  const out = new Uint16Array(raw.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = raw[2 * i]! | (raw[2 * i + 1]! << 8);
  return out;
}

/** f32 → bf16 bits with round-to-nearest-even (as torch does); NaN stays NaN. */
function f32ToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

/** f32 → f16 bits, round-to-nearest-even, overflow to ±inf, subnormals kept. */
function f32ToF16(value: number, bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(value)) return 0x7e00;
  const abs = Math.abs(value);
  if (abs >= 65520) return sign | 0x7c00;
  if (abs < 2 ** -25) return sign;
  if (abs < 2 ** -14) return sign | roundHalfEven(abs / 2 ** -24);
  let exp = Math.floor(Math.log2(abs));
  if (2 ** exp > abs) exp -= 1;
  if (2 ** (exp + 1) <= abs) exp += 1;
  const scaled = (abs / 2 ** exp - 1) * 1024;
  let frac = Math.floor(scaled);
  const rest = scaled - frac;
  if (rest > 0.5 || (rest === 0.5 && frac & 1)) frac += 1;
  if (frac === 1024) {
    frac = 0;
    exp += 1;
  }
  if (exp > 15) return sign | 0x7c00;
  return sign | ((exp + 15) << 10) | frac;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

function encodeFloats(data: Float32Array, dtype: StoredDtype): Uint8Array {
  if (dtype === "F32") {
    const out = new Uint8Array(data.byteLength);
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else {
      const dv = new DataView(out.buffer);
      for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
    }
    return out;
  }
  const bits = new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const half = dtype === "BF16" ? f32ToBf16(bits[i]!) : f32ToF16(data[i]!, bits[i]!);
    dv.setUint16(i * 2, half, true);
  }
  return out;
}

export interface SerializeOptions {
  /** On-disk dtype for every tensor (default F32), or per tensor name. */
  dtype?: StoredDtype | ((name: string) => StoredDtype);
  metadata?: Record<string, string>;
}

/** Serializes tensors (in name order) into one safetensors buffer. */
export function serializeSafetensors(
  tensors: Map<string, Tensor>,
  options: SerializeOptions = {},
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header["__metadata__"] = options.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) {
      throw new DataScaleError(
        "bad_tensor",
        `tensor '${name}': shape [${tensor.shape}] holds ${count} values but data has ${tensor.data.length}`,
      );
    }
    const dtype = typeof options.dtype === "function" ? options.dtype(name) : (options.dtype ?? "F32");
    const bytes = encodeFloats(tensor.data, dtype);
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  // Pad the header with spaces to 8 bytes so tensor data starts aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DataScaleError("not_found", `${path}: cannot read (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseSafetensors(bytes, path);
}

export async function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor>,
  options: SerializeOptions = {},
): Promise<void> {
  await writeFile(path, serializeSafetensors(tensors, options));
}
