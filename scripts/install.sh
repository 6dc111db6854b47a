#!/usr/bin/env bash
# Installs (or removes) the installed build of mod_trueasync the way Debian
# lays out Apache modules. `make install`, `make uninstall` and debian/rules
# call it; it never builds anything.
#
#   scripts/install.sh install     everything below, under $DESTDIR
#   scripts/install.sh private     all but the module, .load and .conf (which
#                                  dh_apache2 installs for the package) and
#                                  the files to build extensions
#   scripts/install.sh dev         the files to build extensions (-dev package)
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
#   /etc/mod-trueasync/mods-available/    one ini per shared extension, enabled
#   /etc/mod-trueasync/conf.d/            by links here (ta-phpenmod; not files
#                                         of the package: postinst makes them)
#   /usr/sbin/ta-phpenmod, ta-phpdismod   switch them, as Debian's phpenmod
#   /usr/share/mod-trueasync/examples/worker.php, stubs/trueasync.stub.php
#                                         (stubs/*.stub.php in one file)
#   /usr/lib/mod-trueasync/{bin,include,lib/php/API/build,share/aclocal}
#   /usr/bin/ta-phpize, ta-php-config     phpize and php-config of that PHP,
#                                         for building more extensions (-dev)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Also set in Makefile (PRIVLIB, PHPINI) for the build; keep in step.
PRIVLIB=/usr/lib/mod-trueasync
ETCDIR=/etc/mod-trueasync
PHPINI=$ETCDIR/php.ini
SBINDIR=/usr/sbin
SHAREDIR=/usr/share/mod-trueasync
LIBEXECDIR=$(apxs -q LIBEXECDIR)
APACHE_ETC=$(apxs -q SYSCONFDIR)
MODS_AVAIL=$APACHE_ETC/mods-available
DESTDIR=${DESTDIR:-}
BUILD=${BUILD:-$ROOT/build/install}
BINDIR=/usr/bin

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
  mods_available | while read -r f; do echo "$ETCDIR/mods-available/$f"; done
  echo "$SBINDIR/ta-phpenmod"
  echo "$SBINDIR/ta-phpdismod"
  echo "$SHAREDIR/examples/worker.php"
  echo "$SHAREDIR/stubs/trueasync.stub.php"
}
# The ini files of the PHP build's shared extensions; once installed, ours.
mods_available() {
  local src f
  if [ -n "${PHP_CONFIG:-}" ]; then src=$("$PHP_CONFIG" --prefix)/etc/mods-available
  else src=$DESTDIR$ETCDIR/mods-available; fi
  for f in "$src"/*.ini; do [ -e "$f" ] && basename "$f"; done
  true
}
# The -dev part: headers, phpize's build files, phpize and php-config, under
# PRIVLIB as under the PHP build's prefix (phpize finds them relative to its
# prefix); listed from the PHP build, or once installed (uninstall) from ours.
dev_tree() {
  local top
  if [ -n "${PHP_CONFIG:-}" ]; then top=$("$PHP_CONFIG" --prefix); else top=$DESTDIR$PRIVLIB; fi
  [ -d "$top/include/php" ] || return 0
  (cd "$top" && find include/php lib/php/*/build -type f | sort)
}
dev_files() {
  dev_tree | while read -r f; do echo "$PRIVLIB/$f"; done
  echo "$PRIVLIB/bin/phpize"
  echo "$PRIVLIB/bin/php-config"
  echo "$PRIVLIB/share/aclocal"
  echo "$BINDIR/ta-phpize"
  echo "$BINDIR/ta-php-config"
}
# The build's own paths in a file, turned into the installed ones.
relocate() {
  local prefix extdir
  prefix=$("$PHP_CONFIG" --prefix); extdir=$("$PHP_CONFIG" --extension-dir)
  sed -e "s|$extdir|$PRIVLIB/extensions|g" -e "s|$prefix/etc|$ETCDIR|g" -e "s|$prefix|$PRIVLIB|g" "$1"
}
install_dev() {
  : "${PHP_CONFIG:?PHP_CONFIG must name the php-config of the ZTS PHP}"
  local prefix f
  prefix=$("$PHP_CONFIG" --prefix)
  dev_tree | while read -r f; do
    install -d -m 755 "$DESTDIR$PRIVLIB/$(dirname "$f")"
    if grep -Iq . "$prefix/$f" && grep -qF "$prefix" "$prefix/$f"; then
      relocate "$prefix/$f" > "$DESTDIR$PRIVLIB/$f"; chmod --reference="$prefix/$f" "$DESTDIR$PRIVLIB/$f"
    else
      install -m "$(stat -c %a "$prefix/$f")" "$prefix/$f" "$DESTDIR$PRIVLIB/$f"
    fi
  done
  install -d -m 755 "$DESTDIR$PRIVLIB/bin" "$DESTDIR$PRIVLIB/share" "$DESTDIR$BINDIR"
  for f in phpize php-config; do
    relocate "$prefix/bin/$f" > "$DESTDIR$PRIVLIB/bin/$f"; chmod 755 "$DESTDIR$PRIVLIB/bin/$f"
    ln -sfn "../lib/mod-trueasync/bin/$f" "$DESTDIR$BINDIR/ta-$f"
  done
  # Debian's phpize takes libtool's and pkg-config's m4 files from PREFIX/share/aclocal
  ln -sfn /usr/share/aclocal "$DESTDIR$PRIVLIB/share/aclocal"
}

apache_files() {
  echo "$LIBEXECDIR/mod_trueasync.so"
  echo "$MODS_AVAIL/trueasync.load"
  echo "$MODS_AVAIL/trueasync.conf"
}
# Directories of our own, removed when empty (deepest first).
own_dirs() {
  dev_tree | sed 's|/[^/]*$||' | sort -u | while read -r d; do
    while [ "$d" != . ]; do echo "$PRIVLIB/$d"; d=$(dirname "$d"); done
  done | sort -u | awk -F/ '{print NF, $0}' | sort -rn | cut -d' ' -f2-
  printf '%s\n' "$PRIVLIB/bin" "$PRIVLIB/share" "$PRIVLIB/extensions" "$PRIVLIB" "$ETCDIR/mods-available" "$ETCDIR/conf.d" "$ETCDIR" \
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
    [ -e "$e" ] || continue
    install -m 644 "$e" "$DESTDIR$PRIVLIB/extensions/"
    # pgsql's configure adds libpq's system directory as RUNPATH: not needed
    if readelf -d "$e" | grep -q 'R\(UN\)\{0,1\}PATH'; then chrpath -d "$DESTDIR$PRIVLIB/extensions/$(basename "$e")" >/dev/null; fi
  done
  install -m 644 "$ROOT/conf/php.ini" "$DESTDIR$PHPINI"
  install -d -m 755 "$DESTDIR$ETCDIR/mods-available" "$DESTDIR$SBINDIR"
  mods_available | while read -r f; do
    install -m 644 "$("$PHP_CONFIG" --prefix)/etc/mods-available/$f" "$DESTDIR$ETCDIR/mods-available/"
  done
  # one script; called ta-phpdismod it disables
  install -m 755 "$ROOT/scripts/ta-phpenmod" "$DESTDIR$SBINDIR/ta-phpenmod"
  install -m 755 "$ROOT/scripts/ta-phpenmod" "$DESTDIR$SBINDIR/ta-phpdismod"
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
  rm -f "$DESTDIR$ETCDIR"/conf.d/*.ini
  local dirs
  dirs=$(own_dirs)   # before the files that name them go
  { private_files; apache_files; dev_files; } | while read -r f; do rm -f "$DESTDIR$f"; done
  while read -r d; do rmdir "$DESTDIR$d" 2>/dev/null || true; done <<<"$dirs"
}

case "${1:-}" in
  install) refuse_over_package; install_private; install_apache; install_dev
           # every extension on, as installing Debian's php8.2-* does
           "$ROOT/scripts/ta-phpenmod" -c "$DESTDIR$ETCDIR" -a
           [ -n "$DESTDIR" ] || log "installed; enable with: a2enmod trueasync && apachectl graceful" ;;
  private) install_private ;;
  dev) install_dev ;;
  apache-files) write_apache_files "${2:?OUTDIR}" ;;
  uninstall) uninstall ;;
  list) { apache_files; private_files; dev_files; } ;;
  *) sed -n '2,25s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
