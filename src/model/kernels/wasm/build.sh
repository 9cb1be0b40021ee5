#!/bin/sh
# Rebuilds gemm-relaxed.wasm and gemm-simd.wasm from gemm.c, attention.c and elementwise.c. Only needed after editing
# the C: the built modules are committed. Needs clang >= 16 with the wasm32 target and
# wasm-ld (Debian: apt-get install -y clang-19 lld-19).
set -e
cd "$(dirname "$0")"
CC=${CC:-$(command -v clang-19 || command -v /usr/lib/llvm-19/bin/clang || command -v clang)}
flags="--target=wasm32 -nostdlib -O3 -msimd128 -matomics -mbulk-memory -fno-builtin -Wl,--no-entry -Wl,--export=gemm -Wl,--export=gemm_nt_small -Wl,--export=swiglu_fwd -Wl,--export=swiglu_bwd -Wl,--export=sumsq -Wl,--export=adamw -Wl,--export=rmsnorm_fwd -Wl,--export=rmsnorm_bwd -Wl,--export=attn_fwd -Wl,--export=attn_bwd -Wl,--export=__heap_base -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=2147483648 -Wl,-z,stack-size=65536"
$CC $flags -mrelaxed-simd -DRELAXED gemm.c attention.c elementwise.c -o gemm-relaxed.wasm
$CC $flags gemm.c attention.c elementwise.c -o gemm-simd.wasm
# Every thread instantiates the module on one memory with the same stack pointer, so no
# function may use the shadow stack (global 0): refuse a build where one does.
for f in gemm-relaxed.wasm gemm-simd.wasm; do
  if llvm-objdump-19 -d "$f" | grep -qE 'global\.(get|set)[[:space:]]+0$'; then
    echo "$f: a function uses the shadow stack (global 0); keep C arrays out of the kernels" >&2
    exit 1
  fi
done
ls -l gemm-relaxed.wasm gemm-simd.wasm
