#!/bin/sh
# Rebuilds gemm-relaxed.wasm and gemm-simd.wasm from gemm.c and attention.c. Only needed after editing
# gemm.c: the built modules are committed. Needs clang >= 16 with the wasm32 target and
# wasm-ld (Debian: apt-get install -y clang-19 lld-19).
set -e
cd "$(dirname "$0")"
CC=${CC:-$(command -v clang-19 || command -v /usr/lib/llvm-19/bin/clang || command -v clang)}
flags="--target=wasm32 -nostdlib -O3 -msimd128 -matomics -mbulk-memory -fno-builtin -Wl,--no-entry -Wl,--export=gemm -Wl,--export=attn_fwd -Wl,--export=attn_bwd -Wl,--export=__heap_base -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=2147483648 -Wl,-z,stack-size=65536"
$CC $flags -mrelaxed-simd -DRELAXED gemm.c attention.c -o gemm-relaxed.wasm
$CC $flags gemm.c attention.c -o gemm-simd.wasm
ls -l gemm-relaxed.wasm gemm-simd.wasm
