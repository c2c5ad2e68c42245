#!/usr/bin/env bash
# Builds pgvector 0.8.6 from ../shared/vendor (Debian bookworm packages no pgvector for
# PostgreSQL 15) against Debian's postgresql-server-dev-15 and installs it into that PostgreSQL
# 15 (/usr/lib/postgresql/15), so `CREATE EXTENSION vector` works in any cluster its binaries
# start — the private clusters tests and benchmarks make with initdb + pg_ctl among them.
# Idempotent: returns at once when that version is installed already.
# Usage: bash scripts/pgvector.sh [TARBALL]
#   needs: postgresql-15 postgresql-server-dev-15 build-essential (apt), root to install.
# Env: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config).
set -euo pipefail
version=0.8.6
sha256=5743dac39fdfa740533cf95e71b033bd5513b71dda194b3cf19464ccbf76f3fb
here="$(cd "$(dirname "$0")" && pwd)"
tarball="${1:-$here/../../shared/vendor/pgvector-$version.tar.gz}"
pg_config="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"

[ -x "$pg_config" ] || { echo "pgvector: $pg_config not found: install Debian's postgresql-server-dev-15 (apt-get install -y postgresql-15 postgresql-server-dev-15 build-essential)" >&2; exit 1; }
libdir="$("$pg_config" --pkglibdir)"
extdir="$("$pg_config" --sharedir)/extension"
if [ -f "$libdir/vector.so" ] && [ -f "$extdir/vector--$version.sql" ] && grep -q "default_version = '$version'" "$extdir/vector.control" 2>/dev/null; then
  echo "pgvector $version: already installed in $libdir"
  exit 0
fi
[ -f "$tarball" ] || { echo "pgvector: $tarball not found (pgvector's source is expected in ../shared/vendor)" >&2; exit 1; }
echo "$sha256  $tarball" | sha256sum -c --quiet - || { echo "pgvector: $tarball does not have the expected sha256" >&2; exit 1; }
command -v make >/dev/null && command -v cc >/dev/null || { echo "pgvector: make and a C compiler are needed (apt-get install -y build-essential)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar xzf "$tarball" -C "$work"
# -march=native (pgvector's default) is right here: the library is built on the machine that runs it.
make -s -C "$work/pgvector-$version" PG_CONFIG="$pg_config" -j"$(nproc)" >/dev/null
make -s -C "$work/pgvector-$version" PG_CONFIG="$pg_config" install >/dev/null
echo "pgvector $version: installed in $libdir"
