// A seeded PRNG of our own so that a (family, seed) pair yields byte-identical tasks on
// every platform and Node version: xoshiro128** seeded through splitmix32. Math.random is
// never used by the task generators.

/** FNV-1a over UTF-16 code units; mixes a family name into its seed stream. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** `seed` is a non-negative safe integer; `stream` separates families sharing a seed. */
  constructor(seed: number, stream = "") {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const st = { x: lo ^ Math.imul(hi, 0x9e3779b1) ^ hashString(stream) };
    st.x = (st.x + splitmix32({ x: hi })) | 0;
    this.#s0 = splitmix32(st);
    this.#s1 = splitmix32(st);
    this.#s2 = splitmix32(st);
    this.#s3 = splitmix32(st);
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** Uniform integer in [lo, hi] (inclusive), unbiased by rejection. */
  int(lo: number, hi: number): number {
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) || hi < lo) {
      throw new RangeError(`int(${lo}, ${hi}): need integers lo <= hi`);
    }
    const range = hi - lo + 1;
    if (range > 2 ** 32) throw new RangeError(`int(${lo}, ${hi}): range exceeds 2^32`);
    const limit = Math.floor(2 ** 32 / range) * range;
    for (;;) {
      const u = this.u32();
      if (u < limit) return lo + (u % range);
    }
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("pick from an empty list");
    return xs[this.int(0, xs.length - 1)] as T;
  }

  /** Fisher–Yates in place; returns the same array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = xs[i] as T;
      xs[i] = xs[j] as T;
      xs[j] = t;
    }
    return xs;
  }

  /** A uniformly random integer with exactly `digits` decimal digits (1 digit: 0..9). */
  bigDigits(digits: number): bigint {
    if (digits <= 1) return BigInt(this.int(0, 9));
    let s = String(this.int(1, 9));
    for (let i = 1; i < digits; i++) s += String(this.int(0, 9));
    return BigInt(s);
  }
}
