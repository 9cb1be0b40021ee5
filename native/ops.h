// The native kernel's passes (ops.c); each runs its units on the pool.
#ifndef DS_OPS_H
#define DS_OPS_H
#include "pool.h"

void ops_sgemm(pool* p, int ta, int tb, int M, int N, int K, const float* A, const float* B, float* C, float beta,
               int parts);
#define OPS_MAX_GEMMS 4
typedef struct {
  int ta, tb, M, N, K;
  const float *A, *B;
  float* C;
  float beta;
} ops_gemm;
/** Independent products (no output is another's input or output) in one pool job, each cut
 * into `parts` row blocks: one hand-off instead of n. */
void ops_sgemm_many(pool* p, int n, const ops_gemm* gs, int parts);
void ops_attn_fwd(pool* p, int B, int T, int H, int KH, int hd, float* out, float* probs, const float* q,
                  const float* k, const float* v);
void ops_attn_bwd(pool* p, int B, int T, int H, int KH, int hd, float* dq, float* dk, float* dv, const float* dout,
                  const float* probs, const float* q, const float* k, const float* v);
void ops_swiglu_fwd(pool* p, float* act, const float* gate, const float* up, long n);
void ops_swiglu_bwd(pool* p, float* dgate, float* dup, const float* dact, const float* gate, const float* up, long n);
void ops_add(pool* p, float* out, const float* a, const float* b, long n);
double ops_sumsq(pool* p, const float* x, long n);
/** h = [lr, beta1, beta2, eps, weightDecay, clip, 1/bc1, 1/bc2] */
void ops_adamw(pool* p, float* params, const float* grads, float* m, float* v, const float* decay, long n,
               const float h[8]);
void ops_rms_fwd(pool* p, float* out, float* rinv, const float* x, const float* w, int N, int D, float eps);
void ops_rms_bwd(pool* p, float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rinv,
                 int N, int D, int acc);
void ops_rope(pool* p, float* x, const int* pos, int N, int heads, int hd, const double* cos, const double* sin,
              int sign);
#endif
