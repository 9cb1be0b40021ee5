// JSON whose reward numbers are always floats (`1.0`, never `1`): Python's json.loads turns
// `1` into an int, and engines that build tensors from rewards (OpenRLHF, slime) or that
// check `isinstance(x, float)` then get int64 tensors or refuse the value.
import { randomBytes } from "node:crypto";

/** A number to be written with a decimal point or exponent. */
export class JsonFloat {
  readonly value: number;
  constructor(value: number) {
    if (!Number.isFinite(value)) throw new RangeError(`a reward must be finite, got ${value}`);
    this.value = value;
  }
}

export const float = (x: number): JsonFloat => new JsonFloat(x);

export function floatText(x: number): string {
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * JSON.stringify where every JsonFloat is written as a float literal. The placeholder
 * carries a per-call random nonce, so no string in the value (a model's output echoed
 * back) can be mistaken for one.
 */
export function stringifyWithFloats(value: unknown): string {
  if (value instanceof JsonFloat) return floatText(value.value);
  const nonce = `\u0001${randomBytes(8).toString("hex")}:`;
  let used = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof JsonFloat) {
      used = true;
      return nonce + floatText(v.value);
    }
    return v;
  });
  if (!used) return text;
  const escaped = JSON.stringify(nonce).slice(1, -1);
  return text.replaceAll(new RegExp(`"${escaped.replace(/\\/g, "\\\\")}([^"]*)"`, "g"), "$1");
}
