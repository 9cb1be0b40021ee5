// Single-precision GEMM for WebAssembly SIMD: C(i,j) (+)= sum_k A(i,k) B(k,j) over a
// rectangle [i0,i1) x [j0,j1) of C, so worker threads can each take a slice. A and B are
// addressed through strides, which covers A, Aᵀ, B and Bᵀ with one routine. B is packed,
// a panel of 8 columns at a time, into contiguous scratch (`pack`, 8*K floats per panel,
// NB_PANELS panels) so the micro-kernel streams it; the micro-kernel keeps an R x 8 block
// of C in registers (R <= 6: 12 accumulators + 2 B vectors + 1 broadcast fit x86's 16
// vector registers). Built twice: with FMA=relaxed (f32x4.relaxed_madd) and plain SIMD.
#include <wasm_simd128.h>

#ifdef RELAXED
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

#define NB_PANELS 8

static inline __attribute__((always_inline)) void tile(int R, int K, const float* A, int sai, int sak,
                                                       const float* P, float* C, int ldc, int nj, int acc) {
  v128_t c0[6], c1[6];
  for (int r = 0; r < R; r++) {
    c0[r] = wasm_f32x4_splat(0.0f);
    c1[r] = wasm_f32x4_splat(0.0f);
  }
  for (int k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(P + 8 * k);
    v128_t b1 = wasm_v128_load(P + 8 * k + 4);
    const float* a = A + k * sak;
    for (int r = 0; r < R; r++) {
      v128_t av = wasm_f32x4_splat(a[r * sai]);
      c0[r] = MADD(av, b0, c0[r]);
      c1[r] = MADD(av, b1, c1[r]);
    }
  }
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
      float tmp[8];
      wasm_v128_store(tmp, c0[r]);
      wasm_v128_store(tmp + 4, c1[r]);
      for (int j = 0; j < nj; j++) c[j] = (acc ? c[j] : 0.0f) + tmp[j];
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
  for (int j = 0; j < 8; j++) {
    if (j < nj) {
      const float* b = B + j * sbj;
      for (int k = 0; k < K; k++) P[8 * k + j] = b[k * sbk];
    } else {
      for (int k = 0; k < K; k++) P[8 * k + j] = 0.0f;
    }
  }
}

void gemm(int i0, int i1, int j0, int j1, int K, const float* A, int sai, int sak, const float* B, int sbk, int sbj,
          float* C, int ldc, int acc, float* pack) {
  for (int jg = j0; jg < j1; jg += 8 * NB_PANELS) {
    int np = 0;
    for (int j = jg; j < j1 && np < NB_PANELS; j += 8, np++) {
      int nj = j1 - j < 8 ? j1 - j : 8;
      pack_panel(K, B + j * sbj, sbk, sbj, nj, pack + np * 8 * K);
    }
    int i = i0;
    for (; i + 6 <= i1; i += 6)
      for (int p = 0; p < np; p++) {
        int j = jg + 8 * p;
        int nj = j1 - j < 8 ? j1 - j : 8;
        tile(6, K, A + i * sai, sai, sak, pack + p * 8 * K, C + i * ldc + j, ldc, nj, acc);
      }
    for (; i + 4 <= i1; i += 4)
      for (int p = 0; p < np; p++) {
        int j = jg + 8 * p;
        int nj = j1 - j < 8 ? j1 - j : 8;
        tile(4, K, A + i * sai, sai, sak, pack + p * 8 * K, C + i * ldc + j, ldc, nj, acc);
      }
    for (; i < i1; i++)
      for (int p = 0; p < np; p++) {
        int j = jg + 8 * p;
        int nj = j1 - j < 8 ? j1 - j : 8;
        tile(1, K, A + i * sai, sai, sak, pack + p * 8 * K, C + i * ldc + j, ldc, nj, acc);
      }
  }
}
