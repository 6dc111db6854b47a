#!/usr/bin/env bash
# Installs what mod_trueasync needs on Debian 12 and builds a ZTS+embed PHP
# from Debian's php8.2 source package into a cache outside the work tree.
# Prints the path of php-config on its last line.
set -euo pipefail

CACHE=${TRUEASYNC_CACHE:-/var/cache/mod_trueasync}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "setup: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PKGS="apache2 apache2-dev libuv1-dev libapache2-mod-perl2 libwww-perl
      build-essential pkg-config dpkg-dev autoconf bison re2c wrk curl
      libxml2-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev
      libonig-dev openssl valgrind mariadb-server libio-socket-ssl-perl
      php8.2-cgi php-symfony-http-foundation php-symfony-http-kernel php-symfony-routing
      php-symfony-event-dispatcher php-slim prometheus
      php-doctrine-dbal php-illuminate-database php-symfony-framework-bundle
      php-symfony-twig-bundle php-twig php-symfony-security-core php-predis
      php-symfony-http-client
      debhelper fakeroot lintian php-parser
      libicu-dev libpng-dev libjpeg-dev libwebp-dev libfreetype-dev libgmp-dev
      libzip-dev libsodium-dev libxslt1-dev libbz2-dev libldap-dev libpq-dev
      libmagickwand-dev postgresql redis-server shtool chrpath
      php8.2-gd php8.2-bcmath php8.2-zip php8.2-intl php8.2-pgsql php-igbinary php-msgpack php-imagick"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends $missing >&2
fi

# Debian's mod_php for t/trueasync/80_refusals.t (mod_php beside this
# module is refused), unpacked, not installed: installing it would switch
# this machine's Apache to the prefork MPM.
MODPHP_DIR=$CACHE/mod-php
if [ ! -f "$MODPHP_DIR/root/usr/lib/apache2/modules/libphp8.2.so" ]; then
  log "fetching Debian's libapache2-mod-php8.2 (unpacked into $MODPHP_DIR, not installed)"
  as_root mkdir -p "$MODPHP_DIR"
  (cd "$MODPHP_DIR" && rm -rf root ./*.deb && as_root apt-get download -qq libapache2-mod-php8.2 2>/dev/null \
     && as_root dpkg-deb -x libapache2-mod-php8.2_*.deb root) >&2 \
    || log "could not fetch libapache2-mod-php8.2; t/trueasync/80_refusals.t will fail its mod_php cases"
fi

# The package postinst starts the system apache2 on :80; we run our own.
if command -v systemctl >/dev/null 2>&1; then as_root systemctl stop apache2 >/dev/null 2>&1 || true; fi
as_root apache2ctl stop >/dev/null 2>&1 || true

if [ -n "${PHP_CONFIG:-}" ]; then
  "$PHP_CONFIG" --configure-options | grep -q -- '--enable-zts' || { log "$PHP_CONFIG is not a ZTS build"; exit 1; }
  echo "$PHP_CONFIG"; exit 0
fi

# What the cached PHP contains. Its directory is named by a hash of all of
# it, so a changed list builds a new PHP beside the old one and never reuses
# a stale build. BUILD_REV: bump when the build steps below change.
BUILD_REV=2
# Extensions apps need, shared, each enabled by its own ini (ta-phpenmod).
SHARED_EXTS="--enable-intl=shared --enable-gd=shared --with-jpeg --with-webp --with-freetype
  --enable-bcmath=shared --with-gmp=shared --with-zip=shared --with-sodium=shared
  --enable-exif=shared --enable-calendar=shared --with-gettext=shared --enable-soap=shared
  --with-xsl=shared --with-bz2=shared --with-ldap=shared,/usr --with-pgsql=shared,/usr
  --with-pdo-pgsql=shared,/usr --enable-sysvmsg=shared --enable-sysvsem=shared
  --enable-sysvshm=shared --enable-shmop=shared"
# The module's own needs, built in (opcache is always a zend_extension).
STATIC_EXTS="--enable-opcache --enable-mbstring --enable-ctype --enable-filter
  --enable-tokenizer --enable-session
  --with-pdo-sqlite --with-pdo-mysql=mysqlnd --with-mysqli=mysqlnd --enable-mysqlnd
  --enable-sockets --with-zlib --with-openssl --with-curl
  --enable-dom --enable-xml --enable-simplexml --with-libxml
  --enable-pcntl --enable-posix"
# PECL extensions from Debian's source packages, in build order (redis uses
# igbinary's and msgpack's headers). php-memcached is left out: Debian's
# mirror lists its source but serves none (404), see docs/php-api.md ("Extensions").
PECL="igbinary msgpack apcu redis imagick"
pecl_configure() {
  case $1 in
    redis) echo "--enable-redis-igbinary --enable-redis-msgpack --enable-redis-lzf --without-liblzf" ;;
  esac
}
# Load order where one extension uses another (Debian's priorities).
ext_priority() {
  case $1 in
    redis|memcached) echo 25 ;;
    *) echo 20 ;;
  esac
}

HASH=$( { echo "$BUILD_REV"; echo $SHARED_EXTS; echo $STATIC_EXTS; echo $PECL
          for e in $PECL; do echo "$e $(pecl_configure "$e") $(ext_priority "$e")"; done; } \
        | sha256sum | cut -c1-10)
PREFIX=$CACHE/php-8.2-zts-$HASH
STAMP=$PREFIX/.built
ETC=$PREFIX/etc

if [ -f "$STAMP" ]; then echo "$PREFIX/bin/php-config"; exit 0; fi
# One build of a given content at a time; a second `make` waits for it.
as_root mkdir -p "$CACHE"
exec 9>"$CACHE/.build-$HASH.lock"
if ! flock -n 9; then log "another build of $PREFIX is running; waiting for it"; flock 9; fi
if [ -f "$STAMP" ]; then echo "$PREFIX/bin/php-config"; exit 0; fi

log "building ZTS+embed PHP 8.2 into $PREFIX (30 minutes or more, once per extension list)"
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  as_root tee /etc/apt/sources.list.d/trueasync-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  as_root apt-get update -qq
fi

# Debian's source package: the newest the mirror serves, into $1 (once).
fetch_source() {
  local pkg=$1 v
  ls "$pkg"_*.dsc >/dev/null 2>&1 && return 0
  for v in $(apt-cache showsrc "$pkg" | awk '/^Version:/{print $2}' | sort -rV); do
    apt-get source -qq --download-only "$pkg=$v" >&2 && return 0
    log "$pkg $v source not fetchable, trying an older one"
    rm -f "$pkg"_*
  done
  log "no source of $pkg could be fetched"; return 1
}

as_root mkdir -p "$CACHE/src"
cd "$CACHE/src"
fetch_source php8.2
# A tree of this build's own, unpacked with Debian's patches: a build of
# another extension list (or one in use) is never touched.
BUILDDIR=$CACHE/src/build-$HASH
rm -rf "$BUILDDIR"
mkdir -p "$BUILDDIR"
dsc=$(ls php8.2_*.dsc | sort -V | tail -1)
dpkg-source -x "$dsc" "$BUILDDIR/php" >&2
cd "$BUILDDIR/php"
# Debian's patches touch the m4 files, so configure is regenerated; they
# also look for libraries (ldap) under the multiarch directory.
PHP_UNAME="Debian" ./buildconf --force >&2
export DEB_HOST_MULTIARCH; DEB_HOST_MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
# shellcheck disable=SC2086
./configure --prefix="$PREFIX" --enable-zts --enable-embed=shared \
  --disable-cgi --disable-phpdbg --without-pear \
  --with-config-file-path="$ETC" --with-config-file-scan-dir="$ETC/conf.d" \
  $STATIC_EXTS $SHARED_EXTS >&2
make -j"$(nproc)" >&2
make install >&2
# Debian's phpize takes libtool's and pkg-config's m4 files from
# PREFIX/share/aclocal (/usr on Debian) and shtool from /usr/bin.
mkdir -p "$PREFIX/share"
ln -sfn /usr/share/aclocal "$PREFIX/share/aclocal"

cd "$CACHE/src"
for e in $PECL; do
  fetch_source "php-$e"
  dsc=$(ls php-"$e"_*.dsc | sort -V | tail -1)
  dpkg-source -x "$dsc" "$BUILDDIR/php-$e" >&2
  src=$(ls -d "$BUILDDIR/php-$e/$e"-*/ | sort -V | tail -1)
  log "building $e from $(basename "$dsc") ($src)"
  # shellcheck disable=SC2046
  (cd "$src" && "$PREFIX/bin/phpize" >&2 \
     && ./configure --with-php-config="$PREFIX/bin/php-config" $(pecl_configure "$e") >&2 \
     && make -j"$(nproc)" >&2 && make install >&2)
  cd "$CACHE/src"
done

# One ini per shared extension in mods-available, enabled by a link in
# conf.d (Debian's layout; scripts/ta-phpenmod switches them).
mkdir -p "$ETC/mods-available" "$ETC/conf.d"
for so in "$("$PREFIX/bin/php-config" --extension-dir)"/*.so; do
  e=$(basename "$so" .so)
  [ "$e" = opcache ] && continue   # loaded by the module itself
  printf '; priority=%s\nextension=%s.so\n' "$(ext_priority "$e")" "$e" > "$ETC/mods-available/$e.ini"
done
"$HERE/ta-phpenmod" -c "$ETC" -a >&2
touch "$STAMP"
echo "$PREFIX/bin/php-config"
