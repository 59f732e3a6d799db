#!/usr/bin/env bash
# Verify the built-in prototype catalog (src/catalog/libc.h, src/catalog/libpcap.h) against the truth:
#   (a) every function is exported by libc.so.6 / libpcap.so.0.8 of the bundled fixtures, amd64 and i386;
#   (b) every prototype, typedef and struct layout agrees with the real glibc and libpcap headers, checked by
#       gcc -m64 and gcc -m32 (-fsyntax-only) on a generated C file (see verify.ts).
#
# Needs gcc with 32-bit support (gcc-multilib) and the libpcap headers (libpcap-dev). When the pcap headers
# are missing and this runs as root, libpcap-dev is installed with apt-get (set CATALOG_NO_INSTALL=1 to
# refuse). Not part of `npm test`, since CI machines may lack these packages.
#
# Usage: bash scripts/catalog/verify.sh [--keep]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

if ! command -v gcc >/dev/null; then
  echo "verify.sh: gcc is required (apt-get install gcc gcc-multilib)" >&2
  exit 2
fi
if ! echo 'int main(void) { return 0; }' | gcc -m32 -x c -fsyntax-only -include stdio.h - 2>/dev/null; then
  echo "verify.sh: gcc -m32 cannot compile against the 32-bit glibc headers (apt-get install gcc-multilib)" >&2
  exit 2
fi
if [ ! -f /usr/include/pcap/pcap.h ]; then
  if [ "$(id -u)" = 0 ] && [ -z "${CATALOG_NO_INSTALL:-}" ]; then
    echo "verify.sh: installing libpcap-dev for the pcap headers" >&2
    apt-get update >/dev/null 2>&1 || true  # a partially failing index (e.g. i386) is fine
    apt-get install -y libpcap-dev >/dev/null
  else
    echo "verify.sh: /usr/include/pcap/pcap.h is missing (apt-get install libpcap-dev)" >&2
    exit 2
  fi
fi

cd "$REPO_ROOT"
exec node --import tsx "$SCRIPT_DIR/verify.ts" "$@"
