#!/usr/bin/env bash
# Build the conformance corpora into fixtures/conformance/:
#   1. test/conformance/generate.ts writes the C sources and corpus.json (seeded: same seed, same files), and
#      test/conformance/conventions.ts the calling-conventions corpus and test/conformance/types.ts the types corpus
#      (_Complex, __float128, _Float16, vectors; issue 12), one per architecture;
#   2. the callees become libconformance-<arch>.so / libconventions-<arch>.so (gcc -O2 -fPIC -shared);
#   3. a natively compiled caller runs on this x86-64 host (-m64 and -m32) and its output becomes
#      expected-<arch>.txt / conventions-expected-<arch>.txt: the answers real hardware gives, which the emulator
#      must reproduce;
#   4. the native output is checked against the generator's prediction from the values alone, so a mistake in the
#      generated C (a literal that does not mean its JSON value) is caught here rather than blamed on the emulator.
#
# Usage: scripts/conformance/build.sh [--seed N] [--count N]   (needs gcc with -m32 support: gcc-multilib)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build/conformance"
OUT="$ROOT/fixtures/conformance"
cd "$ROOT"

rm -rf "$BUILD"
mkdir -p "$BUILD" "$OUT"
npx tsx test/conformance/generate.ts --out "$BUILD" "$@"
npx tsx test/conformance/conventions.ts --out "$BUILD"
npx tsx test/conformance/types.ts --out "$BUILD"

CFLAGS=(-O2 -Wall -Werror -Wno-unused-function -Wno-psabi)

# build_one ARCH FLAG LIBNAME CALLEES CALLER EXPECTED PREDICTED
build_one() {
  local arch=$1 flag=$2 lib=$3 callees=$4 caller=$5 expected=$6 predicted=$7
  local dir="$BUILD/$arch"
  mkdir -p "$dir"
  # Sources are compiled from inside $BUILD with relative names, so no host path ends up in the objects.
  (cd "$BUILD" && gcc "$flag" "${CFLAGS[@]}" -fPIC -shared -s -Wl,-soname,"$lib.so" -o "$arch/$lib.so" "$callees")
  (cd "$BUILD" && gcc "$flag" "${CFLAGS[@]}" -o "$arch/$lib-caller" "$caller" -L"$arch" -l"${lib#lib}" -Wl,-rpath,'$ORIGIN')
  "$dir/$lib-caller" > "$BUILD/$expected"
  if ! cmp -s "$BUILD/$expected" "$BUILD/$predicted"; then
    echo "conformance: the native $arch output of $lib differs from the generator's prediction:" >&2
    diff "$BUILD/$predicted" "$BUILD/$expected" | head -20 >&2
    exit 1
  fi
  cp "$dir/$lib.so" "$OUT/$lib-$arch.so"
  cp "$BUILD/$expected" "$OUT/$expected"
  echo "$arch: $(wc -l < "$OUT/$expected") lines, $lib-$arch.so $(stat -c %s "$OUT/$lib-$arch.so") bytes"
}

for arch in amd64 i386; do
  if [ "$arch" = amd64 ]; then flag=-m64; else flag=-m32; fi
  build_one "$arch" "$flag" libconformance callees.c caller.c "expected-$arch.txt" "predicted-$arch.txt"
  build_one "$arch" "$flag" libconventions "conventions-$arch-callees.c" "conventions-$arch-caller.c" \
    "conventions-expected-$arch.txt" "conventions-predicted-$arch.txt"
  cp "$BUILD/conventions-$arch.json" "$OUT/conventions-$arch.json"
  build_one "$arch" "$flag" libtypes "types-$arch-callees.c" "types-$arch-caller.c" "types-expected-$arch.txt" "types-predicted-$arch.txt"
  cp "$BUILD/types-$arch.json" "$OUT/types-$arch.json"
done
cp "$BUILD/corpus.json" "$OUT/corpus.json"
