// The native kernel's passes, each cut into units for the pool: sgemm (single-threaded
// OpenBLAS calls on row blocks, so one pool and one spin policy serve the whole step),
// causal GQA attention, RMSNorm, SwiGLU, RoPE, residual adds, AdamW and the squared sum.
// Plain C loops written so the compiler vectorises them (-O3 -fopenmp-simd); exp is a
// range-reduced polynomial (relative error ~1e-7), as in the WASM kernel. Layouts and
// formulas match src/model/layers.ts and kernels/attention.ts; every per-unit partial sum is
// combined in unit order, so results do not depend on which thread ran what.
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/** Elements per unit of an elementwise pass. */
#define CHUNK 16384

static inline int chunks(long n) { return (int)((n + CHUNK - 1) / CHUNK); }

/** exp(x) for x in [-87, 88], relative error ~1e-7; vectorises (no libm call). */
static inline float exp_poly(float x) {
  x = x > 88.0f ? 88.0f : x;
  x = x < -87.0f ? -87.0f : x;
  // Round to nearest through the 1.5·2²³ trick (no rint call, so the loop vectorises).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
  float p = 0.00138888892f;
  p = p * r + 0.00833333377f;
  p = p * r + 0.0416666679f;
  p = p * r + 0.166666672f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  union {
    int i;
    float f;
  } u;
  u.i = ((int)n + 127) << 23;
  return p * u.f;
}

// ---- sgemm ----

typedef struct {
  int ta, tb, M, N, K, block;
  const float *A, *B;
  float* C;
  float beta;
} gemm_ctx;

static void gemm_unit(void* c, int unit, int thread) {
  (void)thread;
  gemm_ctx* g = c;
  int i0 = unit * g->block;
  int m = MIN(g->M - i0, g->block);
  // Rows i0.. of op(A): A[i0·K] when A is [M,K], column i0 of A when A is [K,M].
  const float* a = g->ta ? g->A + i0 : g->A + (long)i0 * g->K;
  cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, m, g->N, g->K,
              1.0f, a, g->ta ? g->M : g->K, g->B, g->tb ? g->K : g->N, g->beta, g->C + (long)i0 * g->N, g->N);
}

static void gemm_setup(gemm_ctx* g, int parts) {
  if (parts < 1) parts = 1;
  int block = (g->M + parts - 1) / parts;
  g->block = (block + 15) / 16 * 16;
}

static int gemm_units(const gemm_ctx* g) { return (g->M + g->block - 1) / g->block; }

void ops_sgemm(pool* p, int ta, int tb, int M, int N, int K, const float* A, const float* B, float* C, float beta,
               int parts) {
  gemm_ctx g = {ta, tb, M, N, K, 0, A, B, C, beta};
  gemm_setup(&g, parts);
  pool_run(p, gemm_unit, &g, gemm_units(&g));
}

typedef struct {
  int n;
  gemm_ctx g[OPS_MAX_GEMMS];
  int first[OPS_MAX_GEMMS + 1];
} gemm_batch;

static void batch_unit(void* c, int unit, int thread) {
  gemm_batch* b = c;
  int i = 0;
  while (unit >= b->first[i + 1]) i++;
  gemm_unit(&b->g[i], unit - b->first[i], thread);
}

void ops_sgemm_many(pool* p, int n, const ops_gemm* gs, int parts) {
  gemm_batch b;
  b.n = n;
  b.first[0] = 0;
  for (int i = 0; i < n; i++) {
    const ops_gemm* s = &gs[i];
    b.g[i] = (gemm_ctx){s->ta, s->tb, s->M, s->N, s->K, 0, s->A, s->B, s->C, s->beta};
    gemm_setup(&b.g[i], parts);
    b.first[i + 1] = b.first[i] + gemm_units(&b.g[i]);
  }
  pool_run(p, batch_unit, &b, b.first[n]);
}

// ---- attention ----

typedef float v8 __attribute__((vector_size(32), aligned(4)));

/**
 * y[c] = Σ_r x[r]·M[r·ld + c] for c < cols: every product of attention is a row times a
 * matrix. Columns go 32 at a time in four vector accumulators, so each multiply-add costs
 * one load and no store (the plain loop re-read and re-wrote y for every r).
 */
static void rowmat(float* restrict y, const float* restrict x, const float* restrict M, long ld, int rows,
                   int cols) {
  int c = 0;
  // Eight accumulators cover the FMA latency; a 64-wide block is one head of 64.
  for (; c + 64 <= cols; c += 64) {
    v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int r = 0; r < rows; r++) {
      const float* m = M + r * ld + c;
      float xr = x[r];
      a0 += xr * *(const v8*)m;
      a1 += xr * *(const v8*)(m + 8);
      a2 += xr * *(const v8*)(m + 16);
      a3 += xr * *(const v8*)(m + 24);
      a4 += xr * *(const v8*)(m + 32);
      a5 += xr * *(const v8*)(m + 40);
      a6 += xr * *(const v8*)(m + 48);
      a7 += xr * *(const v8*)(m + 56);
    }
    *(v8*)(y + c) = a0;
    *(v8*)(y + c + 8) = a1;
    *(v8*)(y + c + 16) = a2;
    *(v8*)(y + c + 24) = a3;
    *(v8*)(y + c + 32) = a4;
    *(v8*)(y + c + 40) = a5;
    *(v8*)(y + c + 48) = a6;
    *(v8*)(y + c + 56) = a7;
  }
  for (; c + 32 <= cols; c += 32) {
    v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int r = 0; r < rows; r++) {
      const float* m = M + r * ld + c;
      float xr = x[r];
      a0 += xr * *(const v8*)m;
      a1 += xr * *(const v8*)(m + 8);
      a2 += xr * *(const v8*)(m + 16);
      a3 += xr * *(const v8*)(m + 24);
    }
    *(v8*)(y + c) = a0;
    *(v8*)(y + c + 8) = a1;
    *(v8*)(y + c + 16) = a2;
    *(v8*)(y + c + 24) = a3;
  }
  for (; c + 8 <= cols; c += 8) {
    v8 a0 = {0};
    for (int r = 0; r < rows; r++) a0 += x[r] * *(const v8*)(M + r * ld + c);
    *(v8*)(y + c) = a0;
  }
  for (; c < cols; c++) {
    float a = 0.0f;
    for (int r = 0; r < rows; r++) a += x[r] * M[r * ld + c];
    y[c] = a;
  }
}

/** Columns to compute for the first jn of a T-wide row: rounded up to whole vectors when the
 * row (and the transposed head it reads) has room; the extra ones are ignored or zeroed. */
static inline int padded(int jn, int T) {
  int c = (jn + 7) & ~7;
  return c <= T ? c : jn;
}

typedef struct {
  int B, T, H, KH, hd;
  float *out, *probs, *dq, *dk, *dv;
  const float *q, *k, *v, *dout;
  float* scratch;
} att_ctx;

/** Floats of scratch per thread: a transposed head, two T×T tiles, two rows. */
static long att_scratch_floats(int T, int hd) { return (long)T * hd + 2L * T * T + T + hd; }

/** xt[d·T + j] = x[row j, columns 0..hd) for j < T: a head's K or V, transposed. */
static void transpose_head(float* xt, const float* x, int T, int stride, int hd) {
  for (int j = 0; j < T; j++)
    for (int d = 0; d < hd; d++) xt[d * T + j] = x[(long)j * stride + d];
}

// One unit = one (sequence, kv head): every query head of the group, so backward's dk/dv
// rows belong to one unit only.
static void att_fwd_unit(void* c, int unit, int thread) {
  const att_ctx* a = c;
  int T = a->T, H = a->H, KH = a->KH, hd = a->hd, group = H / KH;
  int qs = H * hd, ks = KH * hd;
  int b = unit / KH, kh = unit % KH;
  float scale = 1.0f / sqrtf((float)hd);
  float* kt = a->scratch + thread * att_scratch_floats(T, hd);
  const float* k0 = a->k + (long)b * T * ks + kh * hd;
  const float* v0 = a->v + (long)b * T * ks + kh * hd;
  transpose_head(kt, k0, T, ks, hd);
  for (int h = kh * group; h < (kh + 1) * group; h++) {
    int bh = b * H + h;
    for (int i = 0; i < T; i++) {
      const float* qi = a->q + (long)(b * T + i) * qs + h * hd;
      float* pr = a->probs + ((long)bh * T + i) * T;
      int jn = i + 1;
      rowmat(pr, qi, kt, T, hd, padded(jn, T));
      float max = -3.4e38f;
      for (int j = 0; j < jn; j++) {
        pr[j] *= scale;
        max = pr[j] > max ? pr[j] : max;
      }
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int j = 0; j < jn; j++) {
        float e = exp_poly(pr[j] - max);
        pr[j] = e;
        sum += e;
      }
      float inv = 1.0f / sum;
      for (int j = 0; j < jn; j++) pr[j] *= inv;
      for (int j = jn; j < T; j++) pr[j] = 0.0f;
      rowmat(a->out + (long)(b * T + i) * qs + h * hd, pr, v0, ks, jn, hd);
    }
  }
}

void ops_attn_fwd(pool* p, int B, int T, int H, int KH, int hd, float* out, float* probs, const float* q,
                  const float* k, const float* v) {
  float* scratch = malloc(sizeof(float) * pool_threads(p) * att_scratch_floats(T, hd));
  att_ctx a = {B, T, H, KH, hd, out, probs, NULL, NULL, NULL, q, k, v, NULL, scratch};
  pool_run(p, att_fwd_unit, &a, B * KH);
  free(scratch);
}

// dq is written; so are this (sequence, kv head)'s dk and dv rows (by its first query
// head, then accumulated by the rest of the group).
static void att_bwd_unit(void* c, int unit, int thread) {
  const att_ctx* a = c;
  int T = a->T, H = a->H, KH = a->KH, hd = a->hd, group = H / KH;
  int qs = H * hd, ks = KH * hd;
  int b = unit / KH, kh = unit % KH;
  float scale = 1.0f / sqrtf((float)hd);
  float* vt = a->scratch + thread * att_scratch_floats(T, hd);
  float* dst = vt + T * hd; /* dS transposed: dst[j·T + i] */
  float* pt = dst + T * T;  /* P transposed */
  float* dp = pt + T * T;
  float* row = dp + T;
  long base = (long)b * T * ks + kh * hd;
  const float* k0 = a->k + base;
  transpose_head(vt, a->v + base, T, ks, hd);
  for (int h = kh * group; h < (kh + 1) * group; h++) {
    int bh = b * H + h;
    const float* q0 = a->q + (long)b * T * qs + h * hd;
    const float* g0 = a->dout + (long)b * T * qs + h * hd;
    for (int i = 0; i < T; i++) {
      const float* pr = a->probs + ((long)bh * T + i) * T;
      int jn = i + 1;
      rowmat(dp, g0 + (long)i * qs, vt, T, hd, padded(jn, T));
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int j = 0; j < jn; j++) dot += dp[j] * pr[j];
      // dp becomes dS, the gradient of the scaled scores.
      for (int j = 0; j < jn; j++) {
        dp[j] = pr[j] * (dp[j] - dot) * scale;
        dst[j * T + i] = dp[j];
        pt[j * T + i] = pr[j];
      }
      rowmat(a->dq + (long)(b * T + i) * qs + h * hd, dp, k0, ks, jn, hd);
    }
    // dK[j] = Σ_{i≥j} dS[i][j]·Q[i]; dV[j] = Σ_{i≥j} P[i][j]·dO[i].
    for (int j = 0; j < T; j++) {
      float* dkr = a->dk + base + (long)j * ks;
      float* dvr = a->dv + base + (long)j * ks;
      int first = h == kh * group;
      rowmat(first ? dkr : row, dst + j * T + j, q0 + (long)j * qs, qs, T - j, hd);
      if (!first)
        for (int d = 0; d < hd; d++) dkr[d] += row[d];
      rowmat(first ? dvr : row, pt + j * T + j, g0 + (long)j * qs, qs, T - j, hd);
      if (!first)
        for (int d = 0; d < hd; d++) dvr[d] += row[d];
    }
  }
}

void ops_attn_bwd(pool* p, int B, int T, int H, int KH, int hd, float* dq, float* dk, float* dv, const float* dout,
                  const float* probs, const float* q, const float* k, const float* v) {
  float* scratch = malloc(sizeof(float) * pool_threads(p) * att_scratch_floats(T, hd));
  att_ctx a = {B, T, H, KH, hd, NULL, (float*)probs, dq, dk, dv, q, k, v, dout, scratch};
  pool_run(p, att_bwd_unit, &a, B * KH);
  free(scratch);
}

// ---- elementwise ----

typedef struct {
  long n;
  float *o0, *o1, *o2;
  const float *i0, *i1, *i2, *i3;
  float f[8];
  double* part;
} ew_ctx;

static void ew_range(const ew_ctx* e, int unit, long* from, long* to) {
  *from = (long)unit * CHUNK;
  *to = MIN(e->n, *from + CHUNK);
}

static void swiglu_fwd_unit(void* c, int unit, int thread) {
  (void)thread;
  const ew_ctx* e = c;
  long from, to;
  ew_range(e, unit, &from, &to);
  float* act = e->o0;
  const float *gate = e->i0, *up = e->i1;
#pragma omp simd
  for (long i = from; i < to; i++) {
    float g = gate[i];
    act[i] = g / (1.0f + exp_poly(-g)) * up[i];
  }
}

static void swiglu_bwd_unit(void* c, int unit, int thread) {
  (void)thread;
  const ew_ctx* e = c;
  long from, to;
  ew_range(e, unit, &from, &to);
  float *dgate = e->o0, *dup = e->o1;
  const float *dact = e->i0, *gate = e->i1, *up = e->i2;
#pragma omp simd
  for (long i = from; i < to; i++) {
    float g = gate[i];
    float s = 1.0f / (1.0f + exp_poly(-g));
    float da = dact[i];
    dup[i] = da * g * s;
    dgate[i] = da * up[i] * s * (1.0f + g * (1.0f - s));
  }
}

void ops_swiglu_fwd(pool* p, float* act, const float* gate, const float* up, long n) {
  ew_ctx e = {.n = n, .o0 = act, .i0 = gate, .i1 = up};
  pool_run(p, swiglu_fwd_unit, &e, chunks(n));
}

void ops_swiglu_bwd(pool* p, float* dgate, float* dup, const float* dact, const float* gate, const float* up, long n) {
  ew_ctx e = {.n = n, .o0 = dgate, .o1 = dup, .i0 = dact, .i1 = gate, .i2 = up};
  pool_run(p, swiglu_bwd_unit, &e, chunks(n));
}

static void add_unit(void* c, int unit, int thread) {
  (void)thread;
  const ew_ctx* e = c;
  long from, to;
  ew_range(e, unit, &from, &to);
  float* out = e->o0;
  const float *a = e->i0, *b = e->i1;
#pragma omp simd
  for (long i = from; i < to; i++) out[i] = a[i] + b[i];
}

void ops_add(pool* p, float* out, const float* a, const float* b, long n) {
  ew_ctx e = {.n = n, .o0 = out, .i0 = a, .i1 = b};
  pool_run(p, add_unit, &e, chunks(n));
}

static void sumsq_unit(void* c, int unit, int thread) {
  (void)thread;
  const ew_ctx* e = c;
  long from, to;
  ew_range(e, unit, &from, &to);
  const float* x = e->i0;
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (long i = from; i < to; i++) s += (double)x[i] * (double)x[i];
  e->part[unit] = s;
}

double ops_sumsq(pool* p, const float* x, long n) {
  int units = chunks(n);
  double* part = calloc((size_t)MAX(units, 1), sizeof(double));
  ew_ctx e = {.n = n, .i0 = x, .part = part};
  pool_run(p, sumsq_unit, &e, units);
  double s = 0.0;
  for (int u = 0; u < units; u++) s += part[u];
  free(part);
  return s;
}

static void adamw_unit(void* c, int unit, int thread) {
  (void)thread;
  const ew_ctx* e = c;
  long from, to;
  ew_range(e, unit, &from, &to);
  float *pr = e->o0, *m = e->o1, *v = e->o2;
  const float *grad = e->i0, *decay = e->i1;
  float lr = e->f[0], b1 = e->f[1], b2 = e->f[2], eps = e->f[3], wd = e->f[4], clip = e->f[5], ibc1 = e->f[6],
        ibc2 = e->f[7];
#pragma omp simd
  for (long i = from; i < to; i++) {
    float g = grad[i] * clip;
    float mi = b1 * m[i] + (1.0f - b1) * g;
    float vi = b2 * v[i] + (1.0f - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    pr[i] -= lr * (mi * ibc1 / (sqrtf(vi * ibc2) + eps) + wd * decay[i] * pr[i]);
  }
}

void ops_adamw(pool* p, float* params, const float* grads, float* m, float* v, const float* decay, long n,
               const float h[8]) {
  ew_ctx e = {.n = n, .o0 = params, .o1 = m, .o2 = v, .i0 = grads, .i1 = decay};
  memcpy(e.f, h, sizeof(e.f));
  pool_run(p, adamw_unit, &e, chunks(n));
}

// ---- row passes: RMSNorm, RoPE ----

// RMSNorm's row units: four, of at least 16 rows, whatever the pool's size. The backward
// pass sums its weight gradient per unit and then over units in order, so a split that
// followed the thread count made gradients (and every run after them) depend on how many
// threads the kernel had. Four is the split one thread always had, so results are those of
// the single-threaded kernel; RMSNorm is a small part of a step, so two to four threads
// lose little.
static int rms_rows_per_unit(int N) { return MAX(16, (N + 3) / 4); }

typedef struct {
  int N, D, per, acc;
  float eps;
  float *out, *rinv, *dx, *dwPart;
  const float *x, *w, *dout, *rinvIn;
} rms_ctx;

static void rms_fwd_unit(void* c, int unit, int thread) {
  (void)thread;
  const rms_ctx* r = c;
  int D = r->D;
  int to = MIN(r->N, (unit + 1) * r->per);
  for (int n = unit * r->per; n < to; n++) {
    const float* xr = r->x + (long)n * D;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int d = 0; d < D; d++) ss += xr[d] * xr[d];
    float ri = 1.0f / sqrtf(ss / (float)D + r->eps);
    r->rinv[n] = ri;
    float* o = r->out + (long)n * D;
#pragma omp simd
    for (int d = 0; d < D; d++) o[d] = xr[d] * ri * r->w[d];
  }
}

void ops_rms_fwd(pool* p, float* out, float* rinv, const float* x, const float* w, int N, int D, float eps) {
  int per = rms_rows_per_unit(N);
  rms_ctx r = {.N = N, .D = D, .per = per, .eps = eps, .out = out, .rinv = rinv, .x = x, .w = w};
  pool_run(p, rms_fwd_unit, &r, (N + per - 1) / per);
}

static void rms_bwd_unit(void* c, int unit, int thread) {
  (void)thread;
  const rms_ctx* r = c;
  int D = r->D;
  float* dw = r->dwPart + (long)unit * D;
  memset(dw, 0, sizeof(float) * D);
  int to = MIN(r->N, (unit + 1) * r->per);
  for (int n = unit * r->per; n < to; n++) {
    const float* xr = r->x + (long)n * D;
    const float* g = r->dout + (long)n * D;
    float ri = r->rinvIn[n];
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int d = 0; d < D; d++) {
      dot += g[d] * r->w[d] * xr[d];
      dw[d] += g[d] * xr[d] * ri;
    }
    float cc = ri * ri * ri * dot / (float)D;
    float* o = r->dx + (long)n * D;
    if (r->acc) {
#pragma omp simd
      for (int d = 0; d < D; d++) o[d] += ri * r->w[d] * g[d] - cc * xr[d];
    } else {
#pragma omp simd
      for (int d = 0; d < D; d++) o[d] = ri * r->w[d] * g[d] - cc * xr[d];
    }
  }
}

void ops_rms_bwd(pool* p, float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rinv,
                 int N, int D, int acc) {
  int per = rms_rows_per_unit(N);
  int units = (N + per - 1) / per;
  float* part = malloc(sizeof(float) * (size_t)units * D);
  rms_ctx r = {.N = N, .D = D, .per = per, .acc = acc, .dx = dx, .dwPart = part, .x = x, .w = w, .dout = dout,
               .rinvIn = rinv};
  pool_run(p, rms_bwd_unit, &r, units);
  for (int u = 0; u < units; u++)
    for (int d = 0; d < D; d++) dw[d] += part[(long)u * D + d];
  free(part);
}

typedef struct {
  int N, heads, hd, per;
  double sign;
  float* x;
  const int* pos;
  const double *cos, *sin;
} rope_ctx;

static void rope_unit(void* c, int unit, int thread) {
  (void)thread;
  const rope_ctx* r = c;
  int half = r->hd / 2, stride = r->heads * r->hd;
  int to = MIN(r->N, (unit + 1) * r->per);
  for (int n = unit * r->per; n < to; n++) {
    const double* cs = r->cos + (long)r->pos[n] * half;
    const double* sn = r->sin + (long)r->pos[n] * half;
    for (int h = 0; h < r->heads; h++) {
      float* o = r->x + (long)n * stride + h * r->hd;
#pragma omp simd
      for (int i = 0; i < half; i++) {
        double c0 = cs[i], s0 = r->sign * sn[i];
        double x1 = o[i], x2 = o[half + i];
        o[i] = (float)(x1 * c0 - x2 * s0);
        o[half + i] = (float)(x1 * s0 + x2 * c0);
      }
    }
  }
}

void ops_rope(pool* p, float* x, const int* pos, int N, int heads, int hd, const double* cos, const double* sin,
              int sign) {
  int per = MAX(16, (N + 4 * pool_threads(p) - 1) / (4 * pool_threads(p)));
  rope_ctx r = {N, heads, hd, per, sign < 0 ? -1.0 : 1.0, x, pos, cos, sin};
  pool_run(p, rope_unit, &r, (N + per - 1) / per);
}
