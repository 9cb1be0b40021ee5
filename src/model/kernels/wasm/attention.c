// Causal grouped-query attention for the WASM kernel, SIMD over the head dimension (which
// must be a multiple of 4; the TypeScript version covers other sizes). Each call handles
// the (batch·head) pairs [from, to); layouts match attention.ts. No libc here, so exp is a
// degree-6 polynomial after range reduction (relative error ~1e-7 over softmax's x <= 0).
#include <wasm_simd128.h>

static inline float exp_neg(float x) {
  if (x < -87.0f) return 0.0f;
  float n = __builtin_rintf(x * 1.44269504088896341f);
  float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
  float p =
      1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f + r * (0.00833333377f + r * 0.00138888892f)))));
  union {
    int i;
    float f;
  } u;
  u.i = ((int)n + 127) << 23;
  return p * u.f;
}

static inline float dot(const float* a, const float* b, int n) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int d = 0; d < n; d += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + d), wasm_v128_load(b + d)));
  return wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) +
         wasm_f32x4_extract_lane(acc, 3);
}

/** out[c] = dot(a, b + c·stride) for c < 4, the four horizontal sums done together. */
static inline v128_t dot4(const float* a, const float* b, int stride, int n) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  for (int d = 0; d < n; d += 4) {
    v128_t x = wasm_v128_load(a + d);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(b + d)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(b + stride + d)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x, wasm_v128_load(b + 2 * stride + d)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x, wasm_v128_load(b + 3 * stride + d)));
  }
  v128_t u0 = wasm_f32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
  v128_t u1 = wasm_f32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i64x2_shuffle(u0, u1, 0, 2), wasm_i64x2_shuffle(u0, u1, 1, 3));
}

/** y[0..n) = Σ_j<m w[j]·x[j·stride + ·]: accumulates 16 columns at a time in registers. */
static inline void wsum(float* y, const float* w, const float* x, int stride, int m, int n) {
  int d = 0;
  for (; d + 16 <= n; d += 16) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < m; j++) {
      v128_t wj = wasm_f32x4_splat(w[j]);
      const float* xj = x + j * stride + d;
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wj, wasm_v128_load(xj)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wj, wasm_v128_load(xj + 4)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wj, wasm_v128_load(xj + 8)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wj, wasm_v128_load(xj + 12)));
    }
    wasm_v128_store(y + d, a0);
    wasm_v128_store(y + d + 4, a1);
    wasm_v128_store(y + d + 8, a2);
    wasm_v128_store(y + d + 12, a3);
  }
  for (; d < n; d += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < m; j++) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(w[j]), wasm_v128_load(x + j * stride + d)));
    wasm_v128_store(y + d, a0);
  }
}

/** p[j] = s[j]·scale for j <= i, four at a time through dot4. */
static inline void scores(float* p, const float* qi, const float* k0, int ks, int i, int hd, float scale) {
  v128_t sc = wasm_f32x4_splat(scale);
  int j = 0;
  for (; j + 4 <= i + 1; j += 4) wasm_v128_store(p + j, wasm_f32x4_mul(dot4(qi, k0 + j * ks, ks, hd), sc));
  for (; j <= i; j++) p[j] = dot(qi, k0 + j * ks, hd) * scale;
}

static inline void axpy(float* y, float a, const float* x, int n) {
  v128_t av = wasm_f32x4_splat(a);
  for (int d = 0; d < n; d += 4)
    wasm_v128_store(y + d, wasm_f32x4_add(wasm_v128_load(y + d), wasm_f32x4_mul(av, wasm_v128_load(x + d))));
}

void attn_fwd(int T, int H, int KH, int hd, int from, int to, float* out, float* probs, const float* q, const float* k,
              const float* v) {
  int qs = H * hd, ks = KH * hd, group = H / KH;
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  for (int bh = from; bh < to; bh++) {
    int b = bh / H, h = bh % H, kh = h / group;
    for (int i = 0; i < T; i++) {
      const float* qi = q + (b * T + i) * qs + h * hd;
      float* p = probs + (bh * T + i) * T;
      const float* k0 = k + b * T * ks + kh * hd;
      scores(p, qi, k0, ks, i, hd, scale);
      float max = -3.4e38f;
      for (int j = 0; j <= i; j++)
        if (p[j] > max) max = p[j];
      float sum = 0.0f;
      for (int j = 0; j <= i; j++) {
        float e = exp_neg(p[j] - max);
        p[j] = e;
        sum += e;
      }
      float inv = 1.0f / sum;
      for (int j = 0; j <= i; j++) p[j] *= inv;
      for (int j = i + 1; j < T; j++) p[j] = 0.0f;
      float* o = out + (b * T + i) * qs + h * hd;
      wsum(o, p, v + b * T * ks + kh * hd, ks, i + 1, hd);
    }
  }
}

// dq is written; dk and dv accumulate (the caller zeroes them and gives each thread whole
// sequences). `scratch` holds T floats for this thread.
void attn_bwd(int T, int H, int KH, int hd, int from, int to, float* dq, float* dk, float* dv, const float* dout,
              const float* probs, const float* q, const float* k, const float* v, float* scratch) {
  int qs = H * hd, ks = KH * hd, group = H / KH;
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  for (int bh = from; bh < to; bh++) {
    int b = bh / H, h = bh % H, kh = h / group;
    for (int i = 0; i < T; i++) {
      int qo = (b * T + i) * qs + h * hd;
      const float* p = probs + (bh * T + i) * T;
      scores(scratch, dout + qo, v + b * T * ks + kh * hd, ks, i, hd, 1.0f);
      float pd = 0.0f;
      for (int j = 0; j <= i; j++) pd += scratch[j] * p[j];
      // scratch becomes dS, the gradient of the scaled scores.
      for (int j = 0; j <= i; j++) scratch[j] = p[j] * (scratch[j] - pd) * scale;
      wsum(dq + qo, scratch, k + b * T * ks + kh * hd, ks, i + 1, hd);
      for (int j = 0; j <= i; j++) {
        int ko = (b * T + j) * ks + kh * hd;
        axpy(dk + ko, scratch[j], q + qo, hd);
        axpy(dv + ko, p[j], dout + qo, hd);
      }
    }
  }
}
