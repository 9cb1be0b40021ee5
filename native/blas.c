// N-API binding to OpenBLAS's cblas_sgemm for the engine's optional `blas` kernel. The
// typed arrays may be views of the WASM kernel's SharedArrayBuffer; we read their data
// pointers directly, so nothing is copied.
#include <cblas.h>
#include <node_api.h>
#include <stdint.h>

static int get_f32(napi_env env, napi_value v, float** out, size_t* len) {
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &ab, &off) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *out = (float*)data;
  return 1;
}

// sgemm(transA: 0|1, transB: 0|1, M, N, K, A, B, C, beta): row-major C = A·B + beta·C.
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 9) {
    napi_throw_type_error(env, NULL, "sgemm: expected 9 arguments");
    return NULL;
  }
  int32_t ta, tb, M, N, K;
  double beta;
  napi_get_value_int32(env, argv[0], &ta);
  napi_get_value_int32(env, argv[1], &tb);
  napi_get_value_int32(env, argv[2], &M);
  napi_get_value_int32(env, argv[3], &N);
  napi_get_value_int32(env, argv[4], &K);
  napi_get_value_double(env, argv[8], &beta);
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_f32(env, argv[5], &A, &la) || !get_f32(env, argv[6], &B, &lb) || !get_f32(env, argv[7], &C, &lc)) {
    napi_throw_type_error(env, NULL, "sgemm: A, B and C must be Float32Arrays");
    return NULL;
  }
  if (la < (size_t)M * K || lb < (size_t)K * N || lc < (size_t)M * N) {
    napi_throw_range_error(env, NULL, "sgemm: an array is shorter than its matrix");
    return NULL;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              ta ? M : K, B, tb ? K : N, (float)beta, C, N);
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
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
