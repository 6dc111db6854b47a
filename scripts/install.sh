#!/usr/bin/env bash
# Installs (or removes) the installed build of mod_trueasync the way Debian
# lays out Apache modules. `make install`, `make uninstall` and debian/rules
# call it; it never builds anything.
#
#   scripts/install.sh install     everything below, under $DESTDIR
#   scripts/install.sh private     all but the module, .load and .conf (which
#                                  dh_apache2 installs for the package)
#   scripts/install.sh apache-files OUTDIR   write trueasync.load/.conf there
#   scripts/install.sh uninstall   remove what `install` put there
#   scripts/install.sh list        the installed paths, one a line
#
# Environment: DESTDIR (default none), PHP_CONFIG (the ZTS PHP's php-config),
# BUILD (default build/install: the module built with PRIVLIB/PHPINI).
#
#   $LIBEXECDIR/mod_trueasync.so          (apxs -q LIBEXECDIR)
#   /etc/apache2/mods-available/trueasync.load, trueasync.conf
#   /usr/lib/mod-trueasync/libphp.so      private ZTS PHP, found by RUNPATH
#   /usr/lib/mod-trueasync/extensions/    its shared extensions (opcache.so)
#   /etc/mod-trueasync/php.ini            the worker's php.ini
#   /usr/share/mod-trueasync/examples/worker.php, stubs/trueasync.stub.php
#                                         (stubs/*.stub.php in one file)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Also set in Makefile (PRIVLIB, PHPINI) for the build; keep in step.
PRIVLIB=/usr/lib/mod-trueasync
ETCDIR=/etc/mod-trueasync
PHPINI=$ETCDIR/php.ini
SHAREDIR=/usr/share/mod-trueasync
LIBEXECDIR=$(apxs -q LIBEXECDIR)
APACHE_ETC=$(apxs -q SYSCONFDIR)
MODS_AVAIL=$APACHE_ETC/mods-available
DESTDIR=${DESTDIR:-}
BUILD=${BUILD:-$ROOT/build/install}

log() { echo "install: $*" >&2; }

php_libdir() {
  local prefix
  prefix=$("$PHP_CONFIG" --prefix)
  for d in "$prefix/lib" "$prefix/lib/php"; do
    [ -f "$d/libphp.so" ] && { echo "$d"; return; }
  done
  log "no libphp.so under $prefix/lib or $prefix/lib/php"; exit 1
}

# Private files: PHP library and extensions, php.ini, stub and example.
private_files() {
  local e src
  echo "$PRIVLIB/libphp.so"
  # the PHP build's extensions; once installed (uninstall), ours
  if [ -n "${PHP_CONFIG:-}" ]; then src=$("$PHP_CONFIG" --extension-dir); else src=$DESTDIR$PRIVLIB/extensions; fi
  for e in "$src"/*.so; do
    [ -e "$e" ] && echo "$PRIVLIB/extensions/$(basename "$e")"
  done
  echo "$PHPINI"
  echo "$SHAREDIR/examples/worker.php"
  echo "$SHAREDIR/stubs/trueasync.stub.php"
}
apache_files() {
  echo "$LIBEXECDIR/mod_trueasync.so"
  echo "$MODS_AVAIL/trueasync.load"
  echo "$MODS_AVAIL/trueasync.conf"
}
# Directories of our own, removed when empty (deepest first).
own_dirs() {
  printf '%s\n' "$PRIVLIB/extensions" "$PRIVLIB" "$ETCDIR" \
    "$SHAREDIR/examples" "$SHAREDIR/stubs" "$SHAREDIR"
}

subst() {
  sed -e "s|@PRIVLIB@|$PRIVLIB|g" -e "s|@LIBEXECDIR@|$LIBEXECDIR|g" \
      -e "s|@SHAREDIR@|$SHAREDIR|g" -e "s|@PHPINI@|$PHPINI|g" "$1"
}

write_apache_files() {
  mkdir -p "$1"
  subst "$ROOT/conf/trueasync.load.in" > "$1/trueasync.load"
  subst "$ROOT/conf/trueasync-mods.conf.in" > "$1/trueasync.conf"
}

install_private() {
  : "${PHP_CONFIG:?PHP_CONFIG must name the php-config of the ZTS PHP}"
  local lib
  lib=$(php_libdir)
  install -d -m 755 "$DESTDIR$PRIVLIB/extensions" "$DESTDIR$ETCDIR" \
    "$DESTDIR$SHAREDIR/examples" "$DESTDIR$SHAREDIR/stubs"
  install -m 644 "$lib/libphp.so" "$DESTDIR$PRIVLIB/libphp.so"
  for e in "$("$PHP_CONFIG" --extension-dir)"/*.so; do
    [ -e "$e" ] && install -m 644 "$e" "$DESTDIR$PRIVLIB/extensions/"
  done
  install -m 644 "$ROOT/conf/php.ini" "$DESTDIR$PHPINI"
  install -m 644 "$ROOT/examples/worker.php" "$DESTDIR$SHAREDIR/examples/worker.php"
  # the stubs/*.stub.php parts in one file, for IDEs
  "$(dirname "$PHP_CONFIG")/php" "$ROOT/scripts/stubs-assemble.php" "$ROOT/stubs" \
    > "$DESTDIR$SHAREDIR/stubs/trueasync.stub.php"
  chmod 644 "$DESTDIR$SHAREDIR/stubs/trueasync.stub.php"
}

install_apache() {
  [ -f "$BUILD/mod_trueasync.so" ] || { log "$BUILD/mod_trueasync.so missing: make install builds it"; exit 1; }
  install -d -m 755 "$DESTDIR$LIBEXECDIR" "$DESTDIR$MODS_AVAIL"
  install -m 644 "$BUILD/mod_trueasync.so" "$DESTDIR$LIBEXECDIR/mod_trueasync.so"
  write_apache_files "$BUILD/apache"
  install -m 644 "$BUILD/apache/trueasync.load" "$BUILD/apache/trueasync.conf" "$DESTDIR$MODS_AVAIL/"
}

# Files the package owns are the package's: dpkg would lose track of them.
refuse_over_package() {
  if [ -z "$DESTDIR" ] && dpkg-query -W -f='${Status}' libapache2-mod-trueasync 2>/dev/null \
       | grep -q 'ok installed'; then
    log "libapache2-mod-trueasync is installed as a package; use apt (apt remove libapache2-mod-trueasync) instead"
    exit 1
  fi
}

uninstall() {
  refuse_over_package
  # A dangling mods-enabled link would stop Apache from starting.
  if [ -z "$DESTDIR" ] && [ -e "$APACHE_ETC/mods-enabled/trueasync.load" ] && command -v a2dismod >/dev/null; then
    a2dismod -q trueasync >&2
  fi
  unset PHP_CONFIG
  { private_files; apache_files; } | while read -r f; do rm -f "$DESTDIR$f"; done
  own_dirs | while read -r d; do rmdir "$DESTDIR$d" 2>/dev/null || true; done
}

case "${1:-}" in
  install) refuse_over_package; install_private; install_apache
           [ -n "$DESTDIR" ] || log "installed; enable with: a2enmod trueasync && apachectl graceful" ;;
  private) install_private ;;
  apache-files) write_apache_files "${2:?OUTDIR}" ;;
  uninstall) uninstall ;;
  list) { apache_files; private_files; } ;;
  *) sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
