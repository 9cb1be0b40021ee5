// N-API binding for the engine's optional `blas` kernel: OpenBLAS's cblas_sgemm, and the
// rest of a training step's passes (ops.c) on a native thread pool (pool.c). The typed
// arrays may be views of the WASM kernel's SharedArrayBuffer or plain arrays; we read their
// data pointers directly, so nothing is copied. Every array's length is checked against
// the shape before any pointer is used.
#include <cblas.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops.h"

typedef struct {
  napi_env env;
  napi_value argv[16];
  size_t argc;
  const char* fn;
  int bad;
} args;

static int fail(args* a, const char* what, int i) {
  if (!a->bad) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: argument %d %s", a->fn, i, what);
    napi_throw_type_error(a->env, NULL, msg);
  }
  a->bad = 1;
  return 0;
}

static int get_args(args* a, napi_env env, napi_callback_info info, const char* fn, size_t want) {
  a->env = env;
  a->fn = fn;
  a->bad = 0;
  a->argc = 16;
  napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL);
  if (a->argc != want) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", fn, want, a->argc);
    napi_throw_type_error(env, NULL, msg);
    a->bad = 1;
    return 0;
  }
  return 1;
}

static int32_t i32(args* a, int i) {
  int32_t v = 0;
  if (!a->bad && napi_get_value_int32(a->env, a->argv[i], &v) != napi_ok) fail(a, "must be a number", i);
  return v;
}

static double f64(args* a, int i) {
  double v = 0;
  if (!a->bad && napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) fail(a, "must be a number", i);
  return v;
}

static void* typed(args* a, int i, napi_typedarray_type want, size_t need, const char* what) {
  if (a->bad) return NULL;
  napi_typedarray_type type;
  size_t len, off;
  void* data;
  napi_value ab;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &len, &data, &ab, &off) != napi_ok || type != want) {
    fail(a, what, i);
    return NULL;
  }
  if (len < need) {
    if (!a->bad) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: argument %d has %zu elements, needs %zu", a->fn, i, len, need);
      napi_throw_range_error(a->env, NULL, msg);
    }
    a->bad = 1;
    return NULL;
  }
  return data;
}

static float* f32a(args* a, int i, size_t need) {
  return typed(a, i, napi_float32_array, need, "must be a Float32Array");
}

typedef struct {
  pool* p;
} pool_handle;

static void pool_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  pool_handle* h = data;
  pool_destroy(h->p);
  free(h);
}

static pool* get_pool(args* a, int i) {
  if (a->bad) return NULL;
  void* data = NULL;
  if (napi_get_value_external(a->env, a->argv[i], &data) != napi_ok || data == NULL) {
    fail(a, "must be a pool from createPool", i);
    return NULL;
  }
  pool* p = ((pool_handle*)data)->p;
  if (p == NULL) fail(a, "is a closed pool", i);
  return p;
}

// sgemm(transA: 0|1, transB: 0|1, M, N, K, A, B, C, beta): row-major C = A·B + beta·C, on
// OpenBLAS's own threads.
static napi_value sgemm(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "sgemm", 9)) return NULL;
  int ta = i32(&a, 0), tb = i32(&a, 1), M = i32(&a, 2), N = i32(&a, 3), K = i32(&a, 4);
  float* A = f32a(&a, 5, (size_t)M * K);
  float* B = f32a(&a, 6, (size_t)K * N);
  float* C = f32a(&a, 7, (size_t)M * N);
  double beta = f64(&a, 8);
  if (a.bad) return NULL;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              ta ? M : K, B, tb ? K : N, (float)beta, C, N);
  return NULL;
}

// poolSgemm(pool, transA, transB, M, N, K, A, B, C, beta, parts): the same product cut into
// `parts` row blocks, each a single-threaded OpenBLAS call on one of the pool's threads.
static napi_value pool_sgemm(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "poolSgemm", 11)) return NULL;
  pool* p = get_pool(&a, 0);
  int ta = i32(&a, 1), tb = i32(&a, 2), M = i32(&a, 3), N = i32(&a, 4), K = i32(&a, 5);
  float* A = f32a(&a, 6, (size_t)M * K);
  float* B = f32a(&a, 7, (size_t)K * N);
  float* C = f32a(&a, 8, (size_t)M * N);
  double beta = f64(&a, 9);
  int parts = i32(&a, 10);
  if (a.bad) return NULL;
  ops_sgemm(p, ta, tb, M, N, K, A, B, C, (float)beta, parts);
  return NULL;
}

// poolSgemmMany(pool, parts, ...n groups of (transA, transB, M, N, K, A, B, C, beta)), n ≤ 4:
// independent products run as one job.
static napi_value pool_sgemm_many(napi_env env, napi_callback_info info) {
  args a;
  a.env = env;
  a.fn = "poolSgemmMany";
  a.bad = 0;
  a.argc = 2 + 9 * OPS_MAX_GEMMS;
  napi_value argv[2 + 9 * OPS_MAX_GEMMS];
  napi_get_cb_info(env, info, &a.argc, argv, NULL, NULL);
  if (a.argc < 2 + 9 || (a.argc - 2) % 9 != 0 || a.argc > 2 + 9 * OPS_MAX_GEMMS) {
    napi_throw_type_error(env, NULL, "poolSgemmMany: expected pool, parts and 1 to 4 groups of 9 arguments");
    return NULL;
  }
  int n = (int)(a.argc - 2) / 9;
  ops_gemm gs[OPS_MAX_GEMMS];
  pool* p = NULL;
  int parts = 1;
  for (int i = 0; i < n && !a.bad; i++) {
    // `args` holds 16 values: parse each group through a window of it.
    for (int j = 0; j < 9; j++) a.argv[j] = argv[2 + 9 * i + j];
    ops_gemm* g = &gs[i];
    g->ta = i32(&a, 0);
    g->tb = i32(&a, 1);
    g->M = i32(&a, 2);
    g->N = i32(&a, 3);
    g->K = i32(&a, 4);
    g->A = f32a(&a, 5, (size_t)g->M * g->K);
    g->B = f32a(&a, 6, (size_t)g->K * g->N);
    g->C = f32a(&a, 7, (size_t)g->M * g->N);
    g->beta = (float)f64(&a, 8);
  }
  a.argv[0] = argv[0];
  a.argv[1] = argv[1];
  p = get_pool(&a, 0);
  parts = i32(&a, 1);
  if (a.bad) return NULL;
  ops_sgemm_many(p, n, gs, parts);
  return NULL;
}

// attnFwd(pool, B, T, H, KH, hd, out, probs, q, k, v)
static napi_value attn_fwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "attnFwd", 11)) return NULL;
  pool* p = get_pool(&a, 0);
  int B = i32(&a, 1), T = i32(&a, 2), H = i32(&a, 3), KH = i32(&a, 4), hd = i32(&a, 5);
  if (!a.bad && (KH <= 0 || H % KH != 0)) fail(&a, "(kv heads) must divide the heads", 4);
  size_t qn = (size_t)B * T * H * hd, kn = (size_t)B * T * KH * hd, pn = (size_t)B * H * T * T;
  float* out = f32a(&a, 6, qn);
  float* probs = f32a(&a, 7, pn);
  float* q = f32a(&a, 8, qn);
  float* k = f32a(&a, 9, kn);
  float* v = f32a(&a, 10, kn);
  if (a.bad) return NULL;
  ops_attn_fwd(p, B, T, H, KH, hd, out, probs, q, k, v);
  return NULL;
}

// attnBwd(pool, B, T, H, KH, hd, dq, dk, dv, dout, probs, q, k, v)
static napi_value attn_bwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "attnBwd", 14)) return NULL;
  pool* p = get_pool(&a, 0);
  int B = i32(&a, 1), T = i32(&a, 2), H = i32(&a, 3), KH = i32(&a, 4), hd = i32(&a, 5);
  if (!a.bad && (KH <= 0 || H % KH != 0)) fail(&a, "(kv heads) must divide the heads", 4);
  size_t qn = (size_t)B * T * H * hd, kn = (size_t)B * T * KH * hd, pn = (size_t)B * H * T * T;
  float* dq = f32a(&a, 6, qn);
  float* dk = f32a(&a, 7, kn);
  float* dv = f32a(&a, 8, kn);
  float* dout = f32a(&a, 9, qn);
  float* probs = f32a(&a, 10, pn);
  float* q = f32a(&a, 11, qn);
  float* k = f32a(&a, 12, kn);
  float* v = f32a(&a, 13, kn);
  if (a.bad) return NULL;
  ops_attn_bwd(p, B, T, H, KH, hd, dq, dk, dv, dout, probs, q, k, v);
  return NULL;
}

// swigluFwd(pool, act, gate, up, n)
static napi_value swiglu_fwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "swigluFwd", 5)) return NULL;
  pool* p = get_pool(&a, 0);
  long n = f64(&a, 4);
  float* act = f32a(&a, 1, n);
  float* gate = f32a(&a, 2, n);
  float* up = f32a(&a, 3, n);
  if (a.bad) return NULL;
  ops_swiglu_fwd(p, act, gate, up, n);
  return NULL;
}

// swigluBwd(pool, dgate, dup, dact, gate, up, n)
static napi_value swiglu_bwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "swigluBwd", 7)) return NULL;
  pool* p = get_pool(&a, 0);
  long n = f64(&a, 6);
  float* dgate = f32a(&a, 1, n);
  float* dup = f32a(&a, 2, n);
  float* dact = f32a(&a, 3, n);
  float* gate = f32a(&a, 4, n);
  float* up = f32a(&a, 5, n);
  if (a.bad) return NULL;
  ops_swiglu_bwd(p, dgate, dup, dact, gate, up, n);
  return NULL;
}

// add(pool, out, a, b, n): out = a + b
static napi_value add(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "add", 5)) return NULL;
  pool* p = get_pool(&a, 0);
  long n = f64(&a, 4);
  float* out = f32a(&a, 1, n);
  float* x = f32a(&a, 2, n);
  float* y = f32a(&a, 3, n);
  if (a.bad) return NULL;
  ops_add(p, out, x, y, n);
  return NULL;
}

// sumsq(pool, x, n) → Σ x² (float64)
static napi_value sumsq(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "sumsq", 3)) return NULL;
  pool* p = get_pool(&a, 0);
  long n = f64(&a, 2);
  float* x = f32a(&a, 1, n);
  if (a.bad) return NULL;
  napi_value r;
  napi_create_double(env, ops_sumsq(p, x, n), &r);
  return r;
}

// adamw(pool, params, grads, m, v, decay, n, h: Float32Array(8))
static napi_value adamw(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "adamw", 8)) return NULL;
  pool* p = get_pool(&a, 0);
  long n = f64(&a, 6);
  float* params = f32a(&a, 1, n);
  float* grads = f32a(&a, 2, n);
  float* m = f32a(&a, 3, n);
  float* v = f32a(&a, 4, n);
  float* decay = f32a(&a, 5, n);
  float* h = f32a(&a, 7, 8);
  if (a.bad) return NULL;
  ops_adamw(p, params, grads, m, v, decay, n, h);
  return NULL;
}

// rmsFwd(pool, out, rinv, x, w, N, D, eps)
static napi_value rms_fwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "rmsFwd", 8)) return NULL;
  pool* p = get_pool(&a, 0);
  int N = i32(&a, 5), D = i32(&a, 6);
  double eps = f64(&a, 7);
  float* out = f32a(&a, 1, (size_t)N * D);
  float* rinv = f32a(&a, 2, N);
  float* x = f32a(&a, 3, (size_t)N * D);
  float* w = f32a(&a, 4, D);
  if (a.bad) return NULL;
  ops_rms_fwd(p, out, rinv, x, w, N, D, (float)eps);
  return NULL;
}

// rmsBwd(pool, dx, dw, dout, x, w, rinv, N, D, accumulateDx)
static napi_value rms_bwd(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "rmsBwd", 10)) return NULL;
  pool* p = get_pool(&a, 0);
  int N = i32(&a, 7), D = i32(&a, 8), acc = i32(&a, 9);
  float* dx = f32a(&a, 1, (size_t)N * D);
  float* dw = f32a(&a, 2, D);
  float* dout = f32a(&a, 3, (size_t)N * D);
  float* x = f32a(&a, 4, (size_t)N * D);
  float* w = f32a(&a, 5, D);
  float* rinv = f32a(&a, 6, N);
  if (a.bad) return NULL;
  ops_rms_bwd(p, dx, dw, dout, x, w, rinv, N, D, acc);
  return NULL;
}

// rope(pool, x, pos: Int32Array, N, heads, hd, cos: Float64Array, sin: Float64Array, sign)
static napi_value rope(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "rope", 9)) return NULL;
  pool* p = get_pool(&a, 0);
  int N = i32(&a, 3), heads = i32(&a, 4), hd = i32(&a, 5), sign = i32(&a, 8);
  float* x = f32a(&a, 1, (size_t)N * heads * hd);
  int32_t* pos = typed(&a, 2, napi_int32_array, N, "must be an Int32Array");
  size_t tl = 0;
  double* cos = typed(&a, 6, napi_float64_array, 0, "must be a Float64Array");
  double* sin = typed(&a, 7, napi_float64_array, 0, "must be a Float64Array");
  if (a.bad) return NULL;
  // Every position must index inside the tables.
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t off, ls;
  napi_get_typedarray_info(env, a.argv[6], &type, &tl, &data, &ab, &off);
  napi_get_typedarray_info(env, a.argv[7], &type, &ls, &data, &ab, &off);
  if (ls < tl) tl = ls;
  for (int n = 0; n < N; n++) {
    if (pos[n] < 0 || (size_t)(pos[n] + 1) * (hd / 2) > tl) {
      napi_throw_range_error(env, NULL, "rope: a position is outside the cos/sin tables");
      return NULL;
    }
  }
  ops_rope(p, x, pos, N, heads, hd, cos, sin, sign);
  return NULL;
}

static napi_value create_pool(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "createPool", 1)) return NULL;
  int n = i32(&a, 0);
  if (a.bad) return NULL;
  pool_handle* h = malloc(sizeof(pool_handle));
  h->p = pool_create(n < 1 ? 1 : n);
  napi_value r;
  napi_create_external(env, h, pool_finalize, NULL, &r);
  return r;
}

static napi_value close_pool(napi_env env, napi_callback_info info) {
  args a;
  if (!get_args(&a, env, info, "closePool", 1)) return NULL;
  void* data = NULL;
  if (napi_get_value_external(env, a.argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "closePool: argument 0 must be a pool from createPool");
    return NULL;
  }
  pool_handle* h = data;
  pool_destroy(h->p);
  h->p = NULL;
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = 1;
  if (argc == 1) napi_get_value_int32(env, argv[0], &n);
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  const char* c = openblas_get_config();
  napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
      {"createPool", NULL, create_pool, NULL, NULL, NULL, napi_default, NULL},
      {"closePool", NULL, close_pool, NULL, NULL, NULL, napi_default, NULL},
      {"poolSgemm", NULL, pool_sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"poolSgemmMany", NULL, pool_sgemm_many, NULL, NULL, NULL, napi_default, NULL},
      {"attnFwd", NULL, attn_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"attnBwd", NULL, attn_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"swigluFwd", NULL, swiglu_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"swigluBwd", NULL, swiglu_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"add", NULL, add, NULL, NULL, NULL, napi_default, NULL},
      {"sumsq", NULL, sumsq, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, adamw, NULL, NULL, NULL, napi_default, NULL},
      {"rmsFwd", NULL, rms_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"rmsBwd", NULL, rms_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"rope", NULL, rope, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
