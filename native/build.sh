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
${CC:-cc} -O2 -fPIC -shared -DNODE_GYP_MODULE_NAME=blas -I"$inc" $blas_inc blas.c -o build/blas.node -lopenblas
echo "built native/build/blas.node"
