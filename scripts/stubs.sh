#!/usr/bin/env bash
# The PHP API's signatures are written once, in stubs/<file>.stub.php, one
# per source file that registers the classes and functions in it. This
# makes of them, with PHP's own build/gen_stub.php as php-src does,
# stubs/<file>_arginfo.h (arginfo, method and function tables,
# register_class_*()), committed beside them; and build/trueasync.stub.php,
# the parts in one file for IDEs (scripts/stubs-assemble.php).
# `scripts/stubs.sh --check` makes the headers in a temporary directory
# instead and fails on any difference (part of `make test`).
#
# gen_stub.php comes with the PHP the module is built with (PHP_CONFIG, else
# build/php-config.path); the PHP-Parser it wants is Debian's php-parser
# (scripts/setup.sh), linked where gen_stub.php looks, so it downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = --check ] && check=1
BUILD=${BUILD:-build}
die() { echo "stubs: $*" >&2; exit 1; }

PHP_CONFIG=${PHP_CONFIG:-$(cat "$BUILD/php-config.path" 2>/dev/null || true)}
[ -n "$PHP_CONFIG" ] || die "no PHP: set PHP_CONFIG or run make setup"
php=$(dirname "$PHP_CONFIG")/php
[ -x "$php" ] || die "no PHP CLI beside $PHP_CONFIG"

# Installed by PHP's `make install` for phpize (Debian's build puts it under
# the API version); else the cached source tree scripts/setup.sh built from.
cache=${TRUEASYNC_CACHE:-/var/cache/mod_trueasync}
prefix=$("$PHP_CONFIG" --prefix)
gen=
for g in "$prefix"/lib/php/build/gen_stub.php "$prefix"/lib/php/*/build/gen_stub.php \
         "$cache"/src/*/build/gen_stub.php "$cache"/src/*/php/build/gen_stub.php; do
  [ -f "$g" ] && { gen=$g; break; }
done
[ -n "$gen" ] || die "no gen_stub.php for $PHP_CONFIG"
[ -d /usr/share/php/PhpParser ] || die "no /usr/share/php/PhpParser: apt-get install php-parser"

# gen_stub.php loads PHP-Parser-<its version>/lib/PhpParser beside itself
# and downloads it when that directory is missing.
tool=$BUILD/gen_stub
version=$(sed -n 's/^ *\$version = "\([0-9.]*\)";/\1/p' "$gen")
[ -n "$version" ] || die "cannot read the PHP-Parser version $gen wants"
mkdir -p "$tool/PHP-Parser-$version/lib"
cp "$gen" "$tool/gen_stub.php"
ln -sfn /usr/share/php/PhpParser "$tool/PHP-Parser-$version/lib/PhpParser"

out=stubs
if [ $check = 1 ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  cp stubs/*.stub.php "$out/"
fi
# -f: regenerate even where the stub hash in a header says nothing changed
"$php" "$tool/gen_stub.php" -f "$out"/*.stub.php >/dev/null
"$php" scripts/stubs-assemble.php "$out" > "$out/trueasync.stub.php.tmp"

if [ $check = 1 ]; then
  status=0
  for f in "$out"/*_arginfo.h; do
    b=$(basename "$f")
    diff -u "stubs/$b" "$f" >&2 || { echo "stubs: stubs/$b is not what its stub makes (make stubs)" >&2; status=1; }
  done
  for f in stubs/*_arginfo.h; do
    [ -f "$out/$(basename "$f")" ] || { echo "stubs: $f has no stub" >&2; status=1; }
  done
  [ $status = 0 ] && echo "stubs: every stubs/*_arginfo.h is what its stub makes"
  exit $status
fi
mv "$out/trueasync.stub.php.tmp" "$BUILD/trueasync.stub.php"
echo "stubs: made stubs/*_arginfo.h and $BUILD/trueasync.stub.php"
