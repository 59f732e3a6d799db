#!/usr/bin/env bash
# Build the conformance corpus (issue 3) into fixtures/conformance/:
#   1. test/conformance/generate.ts writes the C sources and corpus.json (seeded: same seed, same files);
#   2. the callees become libconformance-<arch>.so (gcc -O2 -fPIC -shared, soname libconformance.so);
#   3. a natively compiled caller runs on this x86-64 host (-m64 and -m32) and its output becomes
#      expected-<arch>.txt: the answers real hardware gives, which the emulator must reproduce;
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

for arch in amd64 i386; do
  if [ "$arch" = amd64 ]; then flag=-m64; else flag=-m32; fi
  dir="$BUILD/$arch"
  mkdir -p "$dir"
  # Sources are compiled from inside $BUILD with relative names, so no host path ends up in the objects.
  (cd "$BUILD" && gcc "$flag" -O2 -fPIC -shared -Wall -Werror -Wno-unused-function -Wno-psabi -s \
      -Wl,-soname,libconformance.so -o "$arch/libconformance.so" callees.c)
  (cd "$BUILD" && gcc "$flag" -O2 -Wall -Werror -Wno-unused-function -Wno-psabi -o "$arch/caller" caller.c \
      -L"$arch" -lconformance -Wl,-rpath,'$ORIGIN')
  "$dir/caller" > "$BUILD/expected-$arch.txt"
  if ! cmp -s "$BUILD/expected-$arch.txt" "$BUILD/predicted-$arch.txt"; then
    echo "conformance: the native $arch output differs from the generator's prediction:" >&2
    diff "$BUILD/predicted-$arch.txt" "$BUILD/expected-$arch.txt" | head -20 >&2
    exit 1
  fi
  cp "$dir/libconformance.so" "$OUT/libconformance-$arch.so"
  cp "$BUILD/expected-$arch.txt" "$OUT/expected-$arch.txt"
  echo "$arch: $(wc -l < "$OUT/expected-$arch.txt") lines, libconformance-$arch.so $(stat -c %s "$OUT/libconformance-$arch.so") bytes"
done
cp "$BUILD/corpus.json" "$OUT/corpus.json"
