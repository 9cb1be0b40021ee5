// Single-precision GEMM for WebAssembly SIMD: C(i,j) (+)= sum_k A(i,k) B(k,j) over a
// rectangle [i0,i1) x [j0,j1) of C, so worker threads can each take a slice. A and B are
// addressed through strides, which covers A, Aᵀ, B and Bᵀ with one routine.
// Blocking (BLIS style): K is cut into chunks of KC so a packed B panel (8 columns × KC)
// and a packed A block (6 rows × KC) stay in L1; NB_PANELS panels of B are packed per
// column group and reused by every row block; each row block of A is packed once per
// group, k-major, so the micro-kernel reads both operands from two sequential pointers.
// The micro-kernel keeps a 6 x 8 block of C in 12 registers (+ 2 B vectors + 1 broadcast:
// x86's 16 vector registers, one of which V8 keeps as scratch).
// `pack` must hold NB_PANELS*8*KC + 6*KC floats per thread.
// Built twice: with FMA=relaxed (f32x4.relaxed_madd) and plain SIMD.
#include <wasm_simd128.h>

#ifdef RELAXED
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

#ifndef NB_PANELS
#define NB_PANELS 8
#endif
#ifndef KC
#define KC 512
#endif

// Stores the first nj (< 8) lanes of a vector pair, lane by constant lane: a variable lane
// index would go through the shadow stack, which the threads share (see build.sh).
static inline void store_partial(float* c, v128_t a, v128_t b, int nj, int acc) {
#define LANE(j, v, l) \
  if (nj > j) c[j] = (acc ? c[j] : 0.0f) + wasm_f32x4_extract_lane(v, l);
  LANE(0, a, 0)
  LANE(1, a, 1)
  LANE(2, a, 2)
  LANE(3, a, 3)
  LANE(4, b, 0)
  LANE(5, b, 1)
  LANE(6, b, 2)
  LANE(7, b, 3)
#undef LANE
}

static inline __attribute__((always_inline)) void tile(int R, int K, const float* PA, const float* P, float* C,
                                                       int ldc, int nj, int acc) {
  v128_t c0[6], c1[6];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
    c0[r] = wasm_f32x4_splat(0.0f);
    c1[r] = wasm_f32x4_splat(0.0f);
  }
  for (int k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(P + 8 * k);
    v128_t b1 = wasm_v128_load(P + 8 * k + 4);
    const float* a = PA + 6 * k;
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
      v128_t av = wasm_v128_load32_splat(a + r);
      c0[r] = MADD(av, b0, c0[r]);
      c1[r] = MADD(av, b1, c1[r]);
    }
  }
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
    float* c = C + r * ldc;
    if (nj == 8) {
      if (acc) {
        c0[r] = wasm_f32x4_add(c0[r], wasm_v128_load(c));
        c1[r] = wasm_f32x4_add(c1[r], wasm_v128_load(c + 4));
      }
      wasm_v128_store(c, c0[r]);
      wasm_v128_store(c + 4, c1[r]);
    } else {
      store_partial(c, c0[r], c1[r], nj, acc);
    }
  }
}

static void pack_panel(int K, const float* B, int sbk, int sbj, int nj, float* P) {
  if (sbj == 1 && nj == 8) {
    for (int k = 0; k < K; k++) {
      wasm_v128_store(P + 8 * k, wasm_v128_load(B + k * sbk));
      wasm_v128_store(P + 8 * k + 4, wasm_v128_load(B + k * sbk + 4));
    }
    return;
  }
  if (sbk == 1 && nj == 8) {
    // Bᵀ: 8 rows of contiguous k; transpose 4x4 blocks.
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      for (int h = 0; h < 2; h++) {
        const float* b = B + (4 * h) * sbj + k;
        v128_t r0 = wasm_v128_load(b), r1 = wasm_v128_load(b + sbj), r2 = wasm_v128_load(b + 2 * sbj),
               r3 = wasm_v128_load(b + 3 * sbj);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        float* p = P + 8 * k + 4 * h;
        wasm_v128_store(p, wasm_i64x2_shuffle(t0, t1, 0, 2));
        wasm_v128_store(p + 8, wasm_i64x2_shuffle(t0, t1, 1, 3));
        wasm_v128_store(p + 16, wasm_i64x2_shuffle(t2, t3, 0, 2));
        wasm_v128_store(p + 24, wasm_i64x2_shuffle(t2, t3, 1, 3));
      }
    }
    for (; k < K; k++)
      for (int j = 0; j < 8; j++) P[8 * k + j] = B[j * sbj + k];
    return;
  }
  for (int j = 0; j < 8; j++) {
    if (j < nj) {
      const float* b = B + j * sbj;
      for (int k = 0; k < K; k++) P[8 * k + j] = b[k * sbk];
    } else {
      for (int k = 0; k < K; k++) P[8 * k + j] = 0.0f;
    }
  }
}

/** Packs R rows of A (k-major, stride 6) for k in [0, K). */
static void pack_a(int R, int K, const float* A, int sai, int sak, float* PA) {
  if (sak == 1) {
    for (int r = 0; r < R; r++) {
      const float* a = A + r * sai;
      for (int k = 0; k < K; k++) PA[6 * k + r] = a[k];
    }
  } else {
    for (int k = 0; k < K; k++) {
      const float* a = A + k * sak;
      for (int r = 0; r < R; r++) PA[6 * k + r] = a[r * sai];
    }
  }
}

void gemm(int i0, int i1, int j0, int j1, int K, const float* A, int sai, int sak, const float* B, int sbk, int sbj,
          float* C, int ldc, int acc, float* pack) {
  float* PA = pack + NB_PANELS * 8 * KC;
  for (int jg = j0; jg < j1; jg += 8 * NB_PANELS) {
    for (int k0 = 0; k0 < K; k0 += KC) {
      int kc = K - k0 < KC ? K - k0 : KC;
      int acck = acc || k0 > 0;
      int np = 0;
      for (int j = jg; j < j1 && np < NB_PANELS; j += 8, np++) {
        int nj = j1 - j < 8 ? j1 - j : 8;
        pack_panel(kc, B + j * sbj + k0 * sbk, sbk, sbj, nj, pack + np * 8 * KC);
      }
      int i = i0;
      for (; i < i1;) {
        int R = i1 - i >= 6 ? 6 : i1 - i >= 4 ? 4 : 1;
        pack_a(R, kc, A + i * sai + k0 * sak, sai, sak, PA);
        for (int p = 0; p < np; p++) {
          int j = jg + 8 * p;
          int nj = j1 - j < 8 ? j1 - j : 8;
          float* c = C + i * ldc + j;
          const float* P = pack + p * 8 * KC;
          if (R == 6)
            tile(6, kc, PA, P, c, ldc, nj, acck);
          else if (R == 4)
            tile(4, kc, PA, P, c, ldc, nj, acck);
          else
            tile(1, kc, PA, P, c, ldc, nj, acck);
        }
        i += R;
      }
    }
  }
}

/**
 * C(i,j) (+)= dot(A row i, B row j) for rows [i0,i1) and columns [j0,j1): the x·Wᵀ product
 * with few rows (KV-cached decoding), where packing W would cost more than it saves. Both
 * operands are read contiguously along K (a multiple of 4 is not required).
 */
void gemm_nt_small(int i0, int i1, int j0, int j1, int K, const float* A, int lda, const float* B, int ldb, float* C,
                   int ldc, int acc) {
  int K4 = K & ~3;
  for (int i = i0; i < i1; i += 2) {
    int two = i + 1 < i1;
    const float* a0 = A + i * lda;
    const float* a1 = two ? a0 + lda : a0;
    int j = j0;
    for (; j + 4 <= j1; j += 4) {
      const float* b0 = B + j * ldb;
      v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s02 = s00, s03 = s00;
      v128_t s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (int k = 0; k < K4; k += 4) {
        v128_t x0 = wasm_v128_load(a0 + k), x1 = wasm_v128_load(a1 + k);
        v128_t w0 = wasm_v128_load(b0 + k), w1 = wasm_v128_load(b0 + ldb + k), w2 = wasm_v128_load(b0 + 2 * ldb + k),
               w3 = wasm_v128_load(b0 + 3 * ldb + k);
        s00 = MADD(x0, w0, s00);
        s01 = MADD(x0, w1, s01);
        s02 = MADD(x0, w2, s02);
        s03 = MADD(x0, w3, s03);
        s10 = MADD(x1, w0, s10);
        s11 = MADD(x1, w1, s11);
        s12 = MADD(x1, w2, s12);
        s13 = MADD(x1, w3, s13);
      }
      // Horizontal sums of four accumulators at once: lane c of the result is sum(s_c).
      v128_t u0 = wasm_f32x4_add(wasm_i32x4_shuffle(s00, s01, 0, 4, 1, 5), wasm_i32x4_shuffle(s00, s01, 2, 6, 3, 7));
      v128_t u1 = wasm_f32x4_add(wasm_i32x4_shuffle(s02, s03, 0, 4, 1, 5), wasm_i32x4_shuffle(s02, s03, 2, 6, 3, 7));
      v128_t r0 = wasm_f32x4_add(wasm_i64x2_shuffle(u0, u1, 0, 2), wasm_i64x2_shuffle(u0, u1, 1, 3));
      v128_t u2 = wasm_f32x4_add(wasm_i32x4_shuffle(s10, s11, 0, 4, 1, 5), wasm_i32x4_shuffle(s10, s11, 2, 6, 3, 7));
      v128_t u3 = wasm_f32x4_add(wasm_i32x4_shuffle(s12, s13, 0, 4, 1, 5), wasm_i32x4_shuffle(s12, s13, 2, 6, 3, 7));
      v128_t r1 = wasm_f32x4_add(wasm_i64x2_shuffle(u2, u3, 0, 2), wasm_i64x2_shuffle(u2, u3, 1, 3));
      for (int k = K4; k < K; k++) {
        v128_t w = wasm_f32x4_make(b0[k], b0[ldb + k], b0[2 * ldb + k], b0[3 * ldb + k]);
        r0 = MADD(wasm_f32x4_splat(a0[k]), w, r0);
        r1 = MADD(wasm_f32x4_splat(a1[k]), w, r1);
      }
      float* c0 = C + i * ldc + j;
      if (acc) r0 = wasm_f32x4_add(r0, wasm_v128_load(c0));
      wasm_v128_store(c0, r0);
      if (two) {
        if (acc) r1 = wasm_f32x4_add(r1, wasm_v128_load(c0 + ldc));
        wasm_v128_store(c0 + ldc, r1);
      }
    }
    for (; j < j1; j++) {
      const float* b = B + j * ldb;
      float s0 = 0.0f, s1 = 0.0f;
      for (int k = 0; k < K; k++) {
        s0 += a0[k] * b[k];
        s1 += a1[k] * b[k];
      }
      float* c0 = C + i * ldc + j;
      c0[0] = (acc ? c0[0] : 0.0f) + s0;
      if (two) c0[ldc] = (acc ? c0[ldc] : 0.0f) + s1;
    }
  }
}
