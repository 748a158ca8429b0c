#!/usr/bin/env bash
# Installs Citus into this machine's PostgreSQL (15-17) from a source archive, for machines without Citus's
# packages (https://docs.citusdata.com/en/stable/installation/multi_node.html) or its container image.
#
#   scripts/citus/install.sh <citus-X.Y.Z.tar.gz> [--patch <file.patch>]... [--pg-config <path>]
#
# Idempotent: does nothing when the installed Citus already has the archive's version. The built tree is kept
# in ~/.cache/connect-service/citus/ so a second machine image (or a re-run after a PostgreSQL reinstall)
# untars it instead of compiling again (about 5 minutes on 2 cores). Needs root for apt-get and make install.
set -euo pipefail

archive=""
patches=()
pg_config="${PG_CONFIG:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --patch) patches+=("$(realpath "$2")"); shift 2 ;;
    --pg-config) pg_config="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) archive="$(realpath "$1")"; shift ;;
  esac
done
[ -n "$archive" ] && [ -f "$archive" ] || { echo "usage: $0 <citus-X.Y.Z.tar.gz> [--patch file]..." >&2; exit 2; }

if [ -z "$pg_config" ]; then
  major="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
  pg_config="/usr/lib/postgresql/${major}/bin/pg_config"
fi
[ -x "$pg_config" ] || { echo "pg_config not found at $pg_config (pass --pg-config)" >&2; exit 2; }
major="$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
case "$major" in 15|16|17) ;; *) echo "Citus 13.2 supports PostgreSQL 15-17, found $major" >&2; exit 2 ;; esac

version="$(basename "$archive" | sed -E 's/^citus-([0-9.]+)\.tar\.gz$/\1/')"
pkglib="$("$pg_config" --pkglibdir)"
sharedir="$("$pg_config" --sharedir)"
if [ -f "$pkglib/citus.so" ] && [ -f "$sharedir/extension/citus.control" ] &&
  grep -q "default_version = '${version%.*}" "$sharedir/extension/citus.control" &&
  [ -f "$pkglib/.citus-$version-installed" ]; then
  echo "Citus $version is already installed for PostgreSQL $major"
  exit 0
fi

cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/connect-service/citus"
cache="$cache_dir/citus-$version-pg$major-$(sha256sum "$archive" | cut -c1-12).tar.gz"
if [ -f "$cache" ]; then
  echo "Installing Citus $version for PostgreSQL $major from the cached build $cache"
  tar -xzf "$cache" -C /
  touch "$pkglib/.citus-$version-installed"
  exit 0
fi

deps=(postgresql-server-dev-"$major" libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev make gcc)
missing=()
for d in "${deps[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing build packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
for p in "${patches[@]}"; do (cd "$src" && patch -p1 --forward < "$p"); done

echo "Building Citus $version for PostgreSQL $major (about 5 minutes on 2 cores)"
(cd "$src" && ./configure PG_CONFIG="$pg_config" >"$work/configure.log" 2>&1) ||
  { tail -n 30 "$work/configure.log" >&2; exit 1; }
(cd "$src" && make -j"$(nproc)" with_llvm=no >"$work/make.log" 2>&1) || { tail -n 40 "$work/make.log" >&2; exit 1; }
(cd "$src" && make install-strip with_llvm=no DESTDIR="$work/tree" >"$work/install.log" 2>&1)
mkdir -p "$cache_dir"
tar -czf "$cache" -C "$work/tree" .
tar -xzf "$cache" -C /
touch "$pkglib/.citus-$version-installed"
echo "Citus $version installed for PostgreSQL $major ($pkglib/citus.so); cached build: $cache"
