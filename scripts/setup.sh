#!/usr/bin/env bash
# Installs what mod_trueasync needs on Debian 12 and builds a ZTS+embed PHP
# from Debian's php8.2 source package into a cache outside the work tree.
# Prints the path of php-config on its last line.
set -euo pipefail

CACHE=${TRUEASYNC_CACHE:-/var/cache/mod_trueasync}
PREFIX=$CACHE/php-8.2-zts
STAMP=$PREFIX/.built-v1

log() { echo "setup: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PKGS="apache2 apache2-dev libuv1-dev libapache2-mod-perl2 libwww-perl
      build-essential pkg-config dpkg-dev autoconf bison re2c wrk curl
      libxml2-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev
      libonig-dev openssl valgrind mariadb-server libio-socket-ssl-perl
      php8.2-cgi php-symfony-http-foundation php-symfony-http-kernel php-symfony-routing
      php-symfony-event-dispatcher php-slim prometheus
      php-doctrine-dbal php-illuminate-database php-symfony-framework-bundle
      php-symfony-twig-bundle php-twig php-symfony-security-core
      debhelper fakeroot lintian php-parser"

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

if [ -f "$STAMP" ]; then echo "$PREFIX/bin/php-config"; exit 0; fi

log "building ZTS+embed PHP 8.2 into $PREFIX (about 10 minutes, once)"
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

as_root mkdir -p "$CACHE/src"
cd "$CACHE/src"
srcdir=$(ls -d php8.2-*/ 2>/dev/null | head -1 || true)
if [ -z "$srcdir" ]; then
  # Newest first; a version the mirror no longer carries is skipped.
  for v in $(apt-cache showsrc php8.2 | awk '/^Version:/{print $2}' | sort -rV); do
    apt-get source -qq "php8.2=$v" >&2 && break
    log "php8.2 $v source not fetchable, trying an older one"
    rm -rf php8.2_* php8.2-*
  done
  srcdir=$(ls -d php8.2-*/ | head -1)
fi
cd "$srcdir"
# Debian's patches touch the m4 files, so configure is regenerated.
PHP_UNAME="Debian" ./buildconf --force >&2
./configure --prefix="$PREFIX" --enable-zts --enable-embed=shared \
  --disable-cgi --disable-phpdbg --without-pear \
  --with-config-file-path="$PREFIX/etc" \
  --enable-opcache --enable-mbstring --enable-ctype --enable-filter \
  --enable-tokenizer --enable-session \
  --with-pdo-sqlite --with-pdo-mysql=mysqlnd --with-mysqli=mysqlnd --enable-mysqlnd \
  --enable-sockets --with-zlib --with-openssl --with-curl \
  --enable-dom --enable-xml --enable-simplexml --with-libxml \
  --enable-pcntl --enable-posix >&2
make -j"$(nproc)" >&2
make install >&2
touch "$STAMP"
echo "$PREFIX/bin/php-config"
