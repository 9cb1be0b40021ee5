#!/bin/sh
# npm's postinstall hook: builds the optional native kernel (native/build/blas.node) when a C
# compiler and the OpenBLAS headers are here, and checks that it loads. Otherwise — or when
# the build fails — it says so in one line and the engine uses the WASM kernel. It never
# fails the install. DATASCALE_SKIP_NATIVE=1 skips it.
cd "$(dirname "$0")" || exit 0
[ "${DATASCALE_SKIP_NATIVE:-}" = 1 ] && exit 0
note() { echo "datascale: $*"; }
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  note "no C compiler ($cc); the native BLAS kernel is not built, the engine uses WASM"
  exit 0
fi
blas_inc=$(pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread -I/usr/include/openblas)
mkdir -p build
# shellcheck disable=SC2086
if ! printf '#include <cblas.h>\nint main(void) { return 0; }\n' | "$cc" $blas_inc -x c -fsyntax-only - >build/build.log 2>&1; then
  note "no OpenBLAS headers for $cc (Debian: libopenblas-dev); the native BLAS kernel is not built, the engine uses WASM"
  exit 0
fi
if ! sh ./build.sh >>build/build.log 2>&1; then
  rm -f build/blas.node
  note "the native BLAS kernel did not build (native/build/build.log); the engine uses WASM"
  exit 0
fi
if ! node -e 'require(process.argv[1])' "$PWD/build/blas.node" >>build/build.log 2>&1; then
  rm -f build/blas.node
  note "the native BLAS kernel built but does not load (native/build/build.log); the engine uses WASM"
  exit 0
fi
note "built the native BLAS kernel (native/build/blas.node); the engine uses it by default"
exit 0
