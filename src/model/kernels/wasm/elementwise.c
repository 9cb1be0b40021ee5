// Elementwise passes of the training step in WASM SIMD, each over an index range [from, to)
// so the kernel's threads can split them: SwiGLU forward/backward (dominated by exp, a
// range-reduced polynomial here since there is no libc), AdamW's update and the squared
// sum for the gradient norm. Float32 throughout, as the TypeScript versions on float32
// buffers round to float32 at each store anyway.
#include <wasm_simd128.h>

#ifdef RELAXED
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

/** exp(x) for every lane, relative error ~1e-7; x is clamped to [-87, 88]. */
static inline v128_t vexp(v128_t x) {
  x = wasm_f32x4_max(wasm_f32x4_min(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-87.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.42860682030941723212e-6f)));
  v128_t p = wasm_f32x4_splat(0.00138888892f);
  p = MADD(p, r, wasm_f32x4_splat(0.00833333377f));
  p = MADD(p, r, wasm_f32x4_splat(0.0416666679f));
  p = MADD(p, r, wasm_f32x4_splat(0.166666672f));
  p = MADD(p, r, wasm_f32x4_splat(0.5f));
  p = MADD(p, r, wasm_f32x4_splat(1.0f));
  p = MADD(p, r, wasm_f32x4_splat(1.0f));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

static inline v128_t vsigmoid(v128_t g) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, vexp(wasm_f32x4_neg(g))));
}

static inline float sigmoid1(float g) {
  return wasm_f32x4_extract_lane(vsigmoid(wasm_f32x4_splat(g)), 0);
}

/** act = silu(gate)·up. */
void swiglu_fwd(float* act, const float* gate, const float* up, int from, int to) {
  int i = from;
  for (; i + 4 <= to; i += 4) {
    v128_t g = wasm_v128_load(gate + i);
    v128_t s = vsigmoid(g);
    wasm_v128_store(act + i, wasm_f32x4_mul(wasm_f32x4_mul(g, s), wasm_v128_load(up + i)));
  }
  for (; i < to; i++) act[i] = gate[i] * sigmoid1(gate[i]) * up[i];
}

void swiglu_bwd(float* dgate, float* dup, const float* dact, const float* gate, const float* up, int from, int to) {
  v128_t one = wasm_f32x4_splat(1.0f);
  int i = from;
  for (; i + 4 <= to; i += 4) {
    v128_t g = wasm_v128_load(gate + i);
    v128_t s = vsigmoid(g);
    v128_t da = wasm_v128_load(dact + i);
    v128_t u = wasm_v128_load(up + i);
    wasm_v128_store(dup + i, wasm_f32x4_mul(wasm_f32x4_mul(da, g), s));
    v128_t d = wasm_f32x4_add(one, wasm_f32x4_mul(g, wasm_f32x4_sub(one, s)));
    wasm_v128_store(dgate + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(da, u), s), d));
  }
  for (; i < to; i++) {
    float g = gate[i], s = sigmoid1(g), da = dact[i];
    dup[i] = da * g * s;
    dgate[i] = da * up[i] * s * (1.0f + g * (1.0f - s));
  }
}

/** Σ x² over [from, to), accumulated in float64, stored at out[0]. */
void sumsq(const float* x, int from, int to, double* out) {
  v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0;
  int i = from;
  for (; i + 4 <= to; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t lo = wasm_f64x2_promote_low_f32x4(v);
    v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(lo, lo));
    a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(hi, hi));
  }
  v128_t a = wasm_f64x2_add(a0, a1);
  double s = wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
  for (; i < to; i++) s += (double)x[i] * (double)x[i];
  out[0] = s;
}

/**
 * AdamW over [from, to): g = grad·clip; m, v moments; p -= lr·(m̂/(√v̂+eps) + wd·decay·p),
 * where decay[i] is 1 for matrices and 0 for norms and biases. ibc1 = 1/(1-β1ᵗ),
 * ibc2 = 1/(1-β2ᵗ).
 */
void adamw(float* p, const float* grad, float* m, float* v, const float* decay, int from, int to, float lr, float b1,
           float b2, float eps, float wd, float clip, float ibc1, float ibc2) {
  v128_t vb1 = wasm_f32x4_splat(b1), vb1c = wasm_f32x4_splat(1.0f - b1);
  v128_t vb2 = wasm_f32x4_splat(b2), vb2c = wasm_f32x4_splat(1.0f - b2);
  v128_t vclip = wasm_f32x4_splat(clip), vlr = wasm_f32x4_splat(lr), veps = wasm_f32x4_splat(eps);
  v128_t vwd = wasm_f32x4_splat(wd), vi1 = wasm_f32x4_splat(ibc1), vi2 = wasm_f32x4_splat(ibc2);
  int i = from;
  for (; i + 4 <= to; i += 4) {
    v128_t g = wasm_f32x4_mul(wasm_v128_load(grad + i), vclip);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(vb1, wasm_v128_load(m + i)), wasm_f32x4_mul(vb1c, g));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(vb2, wasm_v128_load(v + i)), wasm_f32x4_mul(wasm_f32x4_mul(vb2c, g), g));
    wasm_v128_store(m + i, mi);
    wasm_v128_store(v + i, vi);
    v128_t pi = wasm_v128_load(p + i);
    v128_t upd = wasm_f32x4_div(wasm_f32x4_mul(mi, vi1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vi, vi2)), veps));
    upd = wasm_f32x4_add(upd, wasm_f32x4_mul(wasm_f32x4_mul(vwd, wasm_v128_load(decay + i)), pi));
    wasm_v128_store(p + i, wasm_f32x4_sub(pi, wasm_f32x4_mul(vlr, upd)));
  }
  for (; i < to; i++) {
    float g = grad[i] * clip;
    float mi = b1 * m[i] + (1.0f - b1) * g;
    float vi = b2 * v[i] + (1.0f - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * ibc1 / (__builtin_sqrtf(vi * ibc2) + eps) + wd * decay[i] * p[i]);
  }
}

static inline float hsum(v128_t a) {
  return wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1) + wasm_f32x4_extract_lane(a, 2) +
         wasm_f32x4_extract_lane(a, 3);
}

/** RMSNorm forward over rows [from, to) of width D (a multiple of 4). */
void rmsnorm_fwd(float* out, float* rinv, const float* x, const float* w, int D, float eps, int from, int to) {
  for (int n = from; n < to; n++) {
    const float* xr = x + n * D;
    v128_t ss = wasm_f32x4_splat(0.0f);
    for (int d = 0; d < D; d += 4) {
      v128_t v = wasm_v128_load(xr + d);
      ss = MADD(v, v, ss);
    }
    float r = 1.0f / __builtin_sqrtf(hsum(ss) / (float)D + eps);
    rinv[n] = r;
    v128_t rv = wasm_f32x4_splat(r);
    float* o = out + n * D;
    for (int d = 0; d < D; d += 4)
      wasm_v128_store(o + d, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(xr + d), rv), wasm_v128_load(w + d)));
  }
}

/**
 * RMSNorm backward over rows [from, to): dx (= or += when acc) and this unit's share of dw,
 * written (not accumulated) to dwPart[0..D) for the caller to sum.
 */
void rmsnorm_bwd(float* dx, float* dwPart, const float* dout, const float* x, const float* w, const float* rinv, int D,
                 int acc, int from, int to) {
  for (int d = 0; d < D; d += 4) wasm_v128_store(dwPart + d, wasm_f32x4_splat(0.0f));
  for (int n = from; n < to; n++) {
    const float* xr = x + n * D;
    const float* g = dout + n * D;
    float r = rinv[n];
    v128_t rv = wasm_f32x4_splat(r);
    v128_t dot = wasm_f32x4_splat(0.0f);
    for (int d = 0; d < D; d += 4) {
      v128_t gv = wasm_v128_load(g + d), xv = wasm_v128_load(xr + d);
      dot = MADD(wasm_f32x4_mul(gv, wasm_v128_load(w + d)), xv, dot);
      wasm_v128_store(dwPart + d, MADD(wasm_f32x4_mul(gv, xv), rv, wasm_v128_load(dwPart + d)));
    }
    v128_t c = wasm_f32x4_splat(r * r * r * hsum(dot) / (float)D);
    float* o = dx + n * D;
    for (int d = 0; d < D; d += 4) {
      v128_t val = wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_mul(rv, wasm_v128_load(w + d)), wasm_v128_load(g + d)),
                                  wasm_f32x4_mul(c, wasm_v128_load(xr + d)));
      if (acc) val = wasm_f32x4_add(val, wasm_v128_load(o + d));
      wasm_v128_store(o + d, val);
    }
  }
}
