#!/usr/bin/env bash
# Builds build/deb/libapache2-mod-trueasync_<version>_<arch>.deb from
# debian/ (debhelper, dh_apache2) in a copy of the tree under build/deb, so
# dpkg-buildpackage writes nothing next to the checkout. `make deb` runs it
# after scripts/setup.sh; PHP_CONFIG names the ZTS PHP to package.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
: "${PHP_CONFIG:?PHP_CONFIG must name the ZTS PHP (make deb sets it)}"

version=$(dpkg-parsechangelog -l debian/changelog -SVersion)
if [ "$version" != "$(cat VERSION)" ]; then
  echo "build-deb: debian/changelog is at $version but VERSION says $(cat VERSION); add a changelog entry (dch -v $(cat VERSION))" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=$ROOT/build/deb
src=$out/mod-trueasync-$version
rm -rf "$out"
mkdir -p "$src"
# The working tree as it is (edits included), without what builds and tests leave.
tar -C "$ROOT" --exclude=./build --exclude=./.git --exclude=./t/logs --exclude=./t/htdocs \
    --exclude=./t/state --exclude=./t/conf/ssl-gen -cf - . | tar -C "$src" -xf -

echo "build-deb: building in $src (log: $out/build.log)" >&2
if ! (cd "$src" && PHP_CONFIG=$PHP_CONFIG dpkg-buildpackage -b -uc -us) >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; see $out/build.log" >&2
  exit 1
fi
grep -E 'dpkg-shlibdeps: (warning|error)' "$out/build.log" >&2 || true
deb=$out/libapache2-mod-trueasync_${version}_$arch.deb
[ -f "$deb" ] || { echo "build-deb: $deb was not made" >&2; exit 1; }
rm -rf "$src"
echo "$deb"
