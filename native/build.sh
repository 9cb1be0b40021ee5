#!/bin/sh
# Builds native/build/blas.node, the optional OpenBLAS kernel, straight with the C compiler
# (an N-API module needs only Node's headers, no node-gyp). Needs a C compiler and the
# OpenBLAS headers (Debian: libopenblas-dev). Without it the engine falls back to WASM.
set -e
cd "$(dirname "$0")"
node_bin=$(command -v node)
inc=${NODE_INCLUDE:-$(dirname "$(dirname "$node_bin")")/include/node}
[ -f "$inc/node_api.h" ] || inc=/opt/node24/package/include/node
blas_inc=$(pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread -I/usr/include/openblas)
mkdir -p build
# Built on the machine that runs it, so -march=native; override with CFLAGS. -fopenmp-simd
# only honours the `omp simd` vectorisation hints (no OpenMP runtime); -fno-trapping-math
# lets the clamps in exp vectorise.
${CC:-cc} ${CFLAGS:--O3 -march=native} -fopenmp-simd -fno-math-errno -fno-trapping-math -fPIC -shared -pthread -DNODE_GYP_MODULE_NAME=blas \
  -I"$inc" $blas_inc blas.c ops.c pool.c -o build/blas.node -lopenblas -lm
echo "built native/build/blas.node"
