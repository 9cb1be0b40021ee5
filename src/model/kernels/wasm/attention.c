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
      float max = -3.4e38f;
      for (int j = 0; j <= i; j++) {
        float s = dot(qi, k + (b * T + j) * ks + kh * hd, hd) * scale;
        p[j] = s;
        if (s > max) max = s;
      }
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
      for (int d = 0; d < hd; d++) o[d] = 0.0f;
      for (int j = 0; j <= i; j++) axpy(o, p[j], v + (b * T + j) * ks + kh * hd, hd);
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
      float pd = 0.0f;
      for (int j = 0; j <= i; j++) {
        float s = dot(dout + qo, v + (b * T + j) * ks + kh * hd, hd);
        scratch[j] = s;
        pd += s * p[j];
      }
      float* dqi = dq + qo;
      for (int d = 0; d < hd; d++) dqi[d] = 0.0f;
      for (int j = 0; j <= i; j++) {
        int ko = (b * T + j) * ks + kh * hd;
        float ds = p[j] * (scratch[j] - pd) * scale;
        axpy(dqi, ds, k + ko, hd);
        axpy(dk + ko, ds, q + qo, hd);
        axpy(dv + ko, p[j], dout + qo, hd);
      }
    }
  }
}
