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

/** Query (or key) rows per block of the blocked path, head dims a multiple of 16. */
#define QB 8

static inline int pad16(int n) { return (n + 15) & ~15; }

/** Floats of scratch per thread. Row path: a transposed head, two T×T tiles, two rows;
 * blocked path: the same with rows padded to pad16(T), and QB rows of scores. */
static long att_scratch_floats(int T, int hd) {
  long tp = pad16(T);
  return MAX((long)T * hd + 2L * T * T + T + hd, tp * hd + 2L * T * tp + QB * tp);
}

/** xt[d·T + j] = x[row j, columns 0..hd) for j < T: a head's K or V, transposed. */
static void transpose_head(float* xt, const float* x, int T, int stride, int hd) {
  for (int j = 0; j < T; j++)
    for (int d = 0; d < hd; d++) xt[d * T + j] = x[(long)j * stride + d];
}

// One unit = one (sequence, kv head): every query head of the group, so backward's dk/dv
// rows belong to one unit only. This per-query-row path serves head dims that are not a
// multiple of 16; the blocked path below serves the rest.
static void att_fwd_rows(void* c, int unit, int thread) {
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

// dq is written; so are this (sequence, kv head)'s dk and dv rows (by its first query
// head, then accumulated by the rest of the group).
static void att_bwd_rows(void* c, int unit, int thread) {
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

// ---- attention, blocked (head dim a multiple of 16) ----
//
// The per-row path above does each product as one query row times a matrix: at head dim 16
// every multiply-add chain is one or two accumulators long, so it waits on FMA latency, and
// backward scatters dS and P into transposed tiles column by column. Here QB query (or key)
// rows go together: each load of K, V, Q or dO serves QB rows, QB to 2·QB accumulators are
// in flight, and dK, dV read dS and P by rows. The rows' softmax and dS passes are vector
// code too (left to the vectoriser they cost more than the products). Same formulas, unit
// split and causal skipping (by block) as the row path; a unit's result does not depend on
// the thread that runs it.

typedef float v16 __attribute__((vector_size(64), aligned(4)));

/** Row r of a block of nr rows: the tail block repeats its last row (results discarded), so
 * no read goes past the sequence. */
#define BLOCK_ROW(x, stride, r, nr) ((x) + (long)MIN(r, (nr) - 1) * (stride))

/**
 * s[r·ld + c] = Σ_d x_r[d]·xt[d·ld + c] for the block's rows x_r (QB rows from x, `stride`
 * apart) and c < cols, a multiple of 16: QKᵀ (or dO·Vᵀ) for QB queries against a transposed
 * head. Two 16-column chunks per pass keep 2·QB accumulators in flight.
 */
static void score_block(float* restrict s, const float* restrict x, long stride, int nr, const float* restrict xt,
                        int ld, int hd, int cols) {
  const float* xr[QB];
  for (int r = 0; r < QB; r++) xr[r] = BLOCK_ROW(x, stride, r, nr);
  int c = 0;
  for (; c + 32 <= cols; c += 32) {
    v16 a0[QB] = {{0}}, a1[QB] = {{0}};
    for (int d = 0; d < hd; d++) {
      v16 k0 = *(const v16*)(xt + (long)d * ld + c), k1 = *(const v16*)(xt + (long)d * ld + c + 16);
#pragma GCC unroll 8
      for (int r = 0; r < QB; r++) {
        a0[r] += xr[r][d] * k0;
        a1[r] += xr[r][d] * k1;
      }
    }
    for (int r = 0; r < QB; r++) {
      *(v16*)(s + r * ld + c) = a0[r];
      *(v16*)(s + r * ld + c + 16) = a1[r];
    }
  }
  if (c < cols) {
    v16 a0[QB] = {{0}};
    for (int d = 0; d < hd; d++) {
      v16 k0 = *(const v16*)(xt + (long)d * ld + c);
#pragma GCC unroll 8
      for (int r = 0; r < QB; r++) a0[r] += xr[r][d] * k0;
    }
    for (int r = 0; r < QB; r++) *(v16*)(s + r * ld + c) = a0[r];
  }
}

/**
 * y_r = Σ_{j<jn} p_r[j]·m_j for the block's rows (p_r from p, `pld` apart; y_r from y, `ys`
 * apart; m_j = m + j·ld, hd floats): P·V or dS·K for QB queries. Each p_r is zero past its
 * row's causal end, so the block's last row's jn serves them all. acc: add to y instead.
 */
static void pv_block(float* restrict y, long ys, int nr, const float* restrict p, long pld, const float* restrict m,
                     long ld, int jn, int hd, int acc) {
  const float* pr[QB];
  for (int r = 0; r < QB; r++) pr[r] = BLOCK_ROW(p, pld, r, nr);
  for (int d0 = 0; d0 < hd; d0 += 16) {
    v16 a[QB] = {{0}};
    for (int j = 0; j < jn; j++) {
      v16 mj = *(const v16*)(m + (long)j * ld + d0);
#pragma GCC unroll 8
      for (int r = 0; r < QB; r++) a[r] += pr[r][j] * mj;
    }
    for (int r = 0; r < nr; r++) {
      v16* yr = (v16*)(y + r * ys + d0);
      *yr = acc ? *yr + a[r] : a[r];
    }
  }
}

/**
 * dK_r = Σ_{i<n} dS[i][r]·Q_i and dV_r = Σ_{i<n} P[i][r]·dO_i for the block's keys r < nr:
 * ds and pp point at the tiles' columns of those keys from their first row on, q and g at
 * that row of Q and dO (rows `stride` apart). The QB values of a tile a step reads are
 * adjacent in one row (the row path read transposed copies), and the two products share
 * the loop: 2·QB accumulators in flight. acc: add to dk, dv instead.
 */
static void dkv_block(float* restrict dk, float* restrict dv, long ys, int nr, const float* restrict ds,
                      const float* restrict pp, int tld, const float* restrict q, const float* restrict g, long stride,
                      int n, int hd, int acc) {
  for (int d0 = 0; d0 < hd; d0 += 16) {
    v16 a[QB] = {{0}}, b[QB] = {{0}};
    for (int i = 0; i < n; i++) {
      v16 qi = *(const v16*)(q + (long)i * stride + d0), gi = *(const v16*)(g + (long)i * stride + d0);
      const float *si = ds + (long)i * tld, *pi = pp + (long)i * tld;
#pragma GCC unroll 8
      for (int r = 0; r < QB; r++) {
        a[r] += si[r] * qi;
        b[r] += pi[r] * gi;
      }
    }
    for (int r = 0; r < nr; r++) {
      v16 *kr = (v16*)(dk + r * ys + d0), *vr = (v16*)(dv + r * ys + d0);
      *kr = acc ? *kr + a[r] : a[r];
      *vr = acc ? *vr + b[r] : b[r];
    }
  }
}

// Whole-vector helpers for the rows of P and dS: written with vector types rather than
// left to the vectoriser, whose loops of a runtime length 1..T cost a scalar tail per row,
// and whose max reduction stays scalar without -ffast-math.
typedef int vi16 __attribute__((vector_size(64), aligned(4)));
static const vi16 LANE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static inline v16 splat(float x) { return (v16){0} + x; }
/** m ? a : b, lane by lane (C has no vector ?:). */
static inline v16 vsel(vi16 m, v16 a, v16 b) { return (v16)(((vi16)a & m) | ((vi16)b & ~m)); }

/** exp_poly on 16 lanes: the same operations in the same order. */
static inline v16 exp_v16(v16 x) {
  x = vsel(x > splat(88.0f), splat(88.0f), x);
  x = vsel(x < splat(-87.0f), splat(-87.0f), x);
  v16 n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  v16 r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
  v16 p = splat(0.00138888892f);
  p = p * r + 0.00833333377f;
  p = p * r + 0.0416666679f;
  p = p * r + 0.166666672f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  vi16 e = (__builtin_convertvector(n, vi16) + 127) << 23;
  return p * (v16)e;
}

static inline v16 vmax(v16 a, v16 b) { return vsel(a > b, a, b); }

/** Lanes of x and y (y's numbered from 16) picked by constant indices: GCC before 12 has
 * only __builtin_shuffle, clang only __builtin_shufflevector. */
#if defined(__clang__) || __GNUC__ >= 12
#define SHUF(x, y, ...) __builtin_shufflevector(x, y, __VA_ARGS__)
#else
#define SHUF(x, y, ...) __builtin_shuffle(x, y, (vi16){__VA_ARGS__})
#endif

// Lane reductions as butterflies (4 dependent steps, not 15), leaving the result in every
// lane; each lane adds the same pairs, so the order is fixed.
#define SWAP8(x) SHUF(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)
#define SWAP4(x) SHUF(x, x, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11)
#define SWAP2(x) SHUF(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)
#define SWAP1(x) SHUF(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14)

static inline float hmax(v16 x) {
  x = vmax(x, SWAP8(x));
  x = vmax(x, SWAP4(x));
  x = vmax(x, SWAP2(x));
  return vmax(x, SWAP1(x))[0];
}

static inline float hsum(v16 x) {
  x += SWAP8(x);
  x += SWAP4(x);
  x += SWAP2(x);
  return (x + SWAP1(x))[0];
}

/** r ← rᵀ for a 16 × 16 tile in registers: four rounds swapping the off-diagonal blocks of
 * 8, 4, 2 and 1 lanes (~5% faster attention than a scalar transpose, one strided load per
 * float, at T = 64). */
static void transpose16(v16 r[16]) {
#define T16_ROUND(b, ...)                                                                  \
  for (int i = 0; i < 16; i++)                                                             \
    if (!(i & (b))) {                                                                      \
      v16 x = r[i], y = r[i + (b)];                                                        \
      r[i] = SHUF(x, y, __VA_ARGS__);                                                      \
      r[i + (b)] = SHUF(SWAP##b(x), SWAP##b(y), __VA_ARGS__);                              \
    }
  T16_ROUND(8, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
  T16_ROUND(4, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27)
  T16_ROUND(2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
  T16_ROUND(1, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30)
#undef T16_ROUND
}

/** xt[d·ld + j] = x[row j, column d] for j < T, and 0 for T ≤ j < ld (ld = pad16(T)): a
 * head's K or V, transposed, its rows padded to whole vectors for score_block. */
static void transpose_padded(float* xt, const float* x, int T, int ld, int stride, int hd) {
  for (int d0 = 0; d0 < hd; d0 += 16)
    for (int j0 = 0; j0 < ld; j0 += 16) {
      v16 r[16];
      for (int j = 0; j < 16; j++) r[j] = j0 + j < T ? *(const v16*)(x + (long)(j0 + j) * stride + d0) : splat(0.0f);
      transpose16(r);
      for (int d = 0; d < 16; d++) *(v16*)(xt + (long)(d0 + d) * ld + j0) = r[d];
    }
}

/**
 * Rows i0 + r (r < nr) of P: p[r·T + j] = softmax_j(scale·s[r·ld + j]) for j ≤ i0 + r, 0 up
 * to T; s holds QB score rows of pad16(i0 + nr) floats (overwritten). Each pass runs over
 * all the block's rows before the next, so the rows' reduction chains overlap instead of
 * one row waiting on its max, then on its sum.
 */
static void softmax_block(float* restrict p, float* restrict s, int ld, int i0, int nr, int T, float scale) {
  float max[QB], inv[QB];
  for (int r = 0; r < nr; r++) {
    int jn = i0 + r + 1;
    v16 m = splat(-3.4e38f);
    for (int c = 0; c < jn; c += 16) {
      v16 x = vsel(LANE + c < jn, *(v16*)(s + r * ld + c) * scale, splat(-3.4e38f));
      *(v16*)(s + r * ld + c) = x;
      m = vmax(x, m);
    }
    max[r] = hmax(m);
  }
  for (int r = 0; r < nr; r++) {
    int jn = i0 + r + 1;
    v16 sum = {0};
    for (int c = 0; c < jn; c += 16) {
      v16 e = vsel(LANE + c < jn, exp_v16(*(v16*)(s + r * ld + c) - max[r]), splat(0.0f));
      *(v16*)(s + r * ld + c) = e;
      sum += e;
    }
    inv[r] = 1.0f / hsum(sum);
  }
  for (int r = 0; r < nr; r++) {
    int n = pad16(i0 + r + 1), j = 0;
    float *pr = p + (long)r * T, *sr = s + r * ld;
    for (; j + 16 <= n && j + 16 <= T; j += 16) *(v16*)(pr + j) = *(v16*)(sr + j) * inv[r];
    for (; j + 16 <= T; j += 16) *(v16*)(pr + j) = splat(0.0f);
    for (; j < T; j++) pr[j] = j < n ? sr[j] * inv[r] : 0.0f;
  }
}

/** pr[c..c+16) with lanes at or past T read as 0: the last chunk of a T-wide row. */
static inline v16 load_tail(const float* pr, int c, int T) {
  if (c + 16 <= T) return *(const v16*)(pr + c);
  v16 x = {0};
  for (int l = 0; c + l < T; l++) x[l] = pr[c + l];
  return x;
}

/**
 * Rows i0 + r (r < nr) of dS and of the padded P tile (both Tp wide, 0 past j = i0 + r):
 * dS[j] = P[j]·(dP[j] − Σ_j dP·P)·scale, from the T-wide rows p of P and the QB rows of dP
 * in s (pad16(i0 + nr) computed floats each; past them stale scratch, so the tails are
 * written as zeros, not computed). Pass by pass over the rows, as in softmax_block.
 */
static void ds_block(float* restrict ds, float* restrict pp, int Tp, const float* restrict p, int T,
                     const float* restrict s, int i0, int nr, float scale) {
  float dot[QB];
  for (int r = 0; r < nr; r++) {
    int i = i0 + r;
    const float *pr = p + (long)r * T, *dp = s + r * Tp;
    float* ppr = pp + (long)i * Tp;
    v16 acc = {0};
    for (int c = 0; c <= i; c += 16) {
      v16 x = vsel(LANE + c <= i, load_tail(pr, c, T), splat(0.0f));
      *(v16*)(ppr + c) = x;
      acc += *(const v16*)(dp + c) * x;
    }
    dot[r] = hsum(acc);
  }
  for (int r = 0; r < nr; r++) {
    int i = i0 + r, c = 0;
    const float* dp = s + r * Tp;
    float *dsr = ds + (long)i * Tp, *ppr = pp + (long)i * Tp;
    for (; c <= i; c += 16) *(v16*)(dsr + c) = *(v16*)(ppr + c) * (*(const v16*)(dp + c) - dot[r]) * scale;
    for (; c < Tp; c += 16) *(v16*)(dsr + c) = *(v16*)(ppr + c) = splat(0.0f);
  }
}

static void att_fwd_blocked(void* c, int unit, int thread) {
  const att_ctx* a = c;
  int T = a->T, H = a->H, KH = a->KH, hd = a->hd, group = H / KH, Tp = pad16(T);
  int qs = H * hd, ks = KH * hd;
  int b = unit / KH, kh = unit % KH;
  float scale = 1.0f / sqrtf((float)hd);
  float* kt = a->scratch + thread * att_scratch_floats(T, hd);
  float* s = kt + (long)hd * Tp; /* QB rows of scores, Tp apart */
  long base = (long)b * T * ks + kh * hd;
  transpose_padded(kt, a->k + base, T, Tp, ks, hd);
  for (int h = kh * group; h < (kh + 1) * group; h++) {
    const float* q0 = a->q + (long)b * T * qs + h * hd;
    float* o0 = a->out + (long)b * T * qs + h * hd;
    float* p0 = a->probs + (long)(b * H + h) * T * T;
    for (int i0 = 0; i0 < T; i0 += QB) {
      int nr = MIN(QB, T - i0), jn = i0 + nr; /* keys the block's last query sees */
      score_block(s, q0 + (long)i0 * qs, qs, nr, kt, Tp, hd, pad16(jn));
      softmax_block(p0 + (long)i0 * T, s, Tp, i0, nr, T, scale);
      pv_block(o0 + (long)i0 * qs, qs, nr, p0 + (long)i0 * T, T, a->v + base, ks, jn, hd, 0);
    }
  }
}

/**
 * Backward of one (sequence, kv head), blocked. Per query head: dP = dO·Vᵀ and dS by query
 * blocks into a T × Tp tile (rows zero past the causal end, so key blocks may read the whole
 * column), dQ = dS·K, then dK = dSᵀ·Q and dV = Pᵀ·dO by key blocks. The group's first head
 * writes dk and dv, the others add, as in the row path.
 */
static void att_bwd_blocked(void* c, int unit, int thread) {
  const att_ctx* a = c;
  int T = a->T, H = a->H, KH = a->KH, hd = a->hd, group = H / KH, Tp = pad16(T);
  int qs = H * hd, ks = KH * hd;
  int b = unit / KH, kh = unit % KH;
  float scale = 1.0f / sqrtf((float)hd);
  float* vt = a->scratch + thread * att_scratch_floats(T, hd);
  float* ds = vt + (long)hd * Tp; /* dS, T rows Tp apart */
  float* pp = ds + (long)T * Tp;  /* P with rows Tp apart, zero-padded: key blocks read past T */
  float* s = pp + (long)T * Tp;   /* QB rows of dP */
  long base = (long)b * T * ks + kh * hd;
  transpose_padded(vt, a->v + base, T, Tp, ks, hd);
  for (int h = kh * group; h < (kh + 1) * group; h++) {
    const float* q0 = a->q + (long)b * T * qs + h * hd;
    const float* g0 = a->dout + (long)b * T * qs + h * hd;
    const float* p0 = a->probs + (long)(b * H + h) * T * T;
    for (int i0 = 0; i0 < T; i0 += QB) {
      int nr = MIN(QB, T - i0), jn = i0 + nr;
      score_block(s, g0 + (long)i0 * qs, qs, nr, vt, Tp, hd, pad16(jn));
      ds_block(ds, pp, Tp, p0 + (long)i0 * T, T, s, i0, nr, scale);
      pv_block(a->dq + (long)(b * T + i0) * qs + h * hd, qs, nr, ds + (long)i0 * Tp, Tp, a->k + base, ks, jn, hd, 0);
    }
    int acc = h != kh * group;
    for (int j0 = 0; j0 < T; j0 += QB) {
      int nr = MIN(QB, T - j0);
      long o = base + (long)j0 * ks, t0 = (long)j0 * Tp + j0; /* from row j0: above it the columns are 0 */
      dkv_block(a->dk + o, a->dv + o, ks, nr, ds + t0, pp + t0, Tp, q0 + (long)j0 * qs, g0 + (long)j0 * qs, qs,
                T - j0, hd, acc);
    }
  }
}

void ops_attn_fwd(pool* p, int B, int T, int H, int KH, int hd, float* out, float* probs, const float* q,
                  const float* k, const float* v) {
  float* scratch = malloc(sizeof(float) * pool_threads(p) * att_scratch_floats(T, hd));
  att_ctx a = {B, T, H, KH, hd, out, probs, NULL, NULL, NULL, q, k, v, NULL, scratch};
  pool_run(p, hd % 16 == 0 ? att_fwd_blocked : att_fwd_rows, &a, B * KH);
  free(scratch);
}

void ops_attn_bwd(pool* p, int B, int T, int H, int KH, int hd, float* dq, float* dk, float* dv, const float* dout,
                  const float* probs, const float* q, const float* k, const float* v) {
  float* scratch = malloc(sizeof(float) * pool_threads(p) * att_scratch_floats(T, hd));
  att_ctx a = {B, T, H, KH, hd, NULL, (float*)probs, dq, dk, dv, q, k, v, dout, scratch};
  pool_run(p, hd % 16 == 0 ? att_bwd_blocked : att_bwd_rows, &a, B * KH);
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
