#!/usr/bin/env bash
# The Debian install, end to end, on this machine's own Apache (part of
# `make test`; needs root and `make deb` done):
#   lintian; the README and docs/ in the package; make install/uninstall
#   into a staging DESTDIR; apt install of the .deb; a2enmod; Debian's
#   apache2ctl with /etc/apache2 as it is, on 127.0.0.1:$TA_DEB_PORT
#   (18080): the example worker answers, -M lists
#   the module, a graceful restart (ServerTokens Full shows the version),
#   a2dismod; the refusal when the private libphp is gone; apt remove and
#   apt purge leave nothing behind.
# /etc/apache2 and /var/lib/apache2 are copied first and put back at the
# end, whatever happens. The server runs with its own pid file and logs
# (APACHE_ENVVARS), so an `apache2ctl stop` elsewhere does not stop it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PORT=${TA_DEB_PORT:-18080}
PKG=libapache2-mod-trueasync
PRIVLIB=/usr/lib/mod-trueasync

[ "$(id -u)" = 0 ] || { echo "deb-test: needs root (apt, /etc/apache2)" >&2; exit 2; }
deb=$(ls "$ROOT"/build/deb/${PKG}_*.deb 2>/dev/null | head -1)
devdeb=$(ls "$ROOT"/build/deb/${PKG}-dev_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && [ -n "$devdeb" ] || { echo "deb-test: no build/deb/${PKG}{,-dev}_*.deb; run 'make deb' first" >&2; exit 2; }
if dpkg-query -W -f='${Status}' $PKG $PKG-dev 2>/dev/null | grep -q 'installed\|config-files'; then
  echo "deb-test: $PKG is already on this machine; not touching an admin's install" >&2; exit 1
fi

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || printf '#   %s\n' "$2"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d" "failed: $*"; fi; }
# check_out DESC REGEX CMD...: CMD's output matches REGEX (exit status ignored)
check_out() {
  local d=$1 re=$2; shift 2
  local out; out=$("$@" 2>&1)
  if grep -Eq -- "$re" <<<"$out"; then ok "$d"; else not_ok "$d" "$(head -5 <<<"$out")"; fi
}

work=$(mktemp -d /tmp/ta-debtest.XXXXXX)
cp -a /etc/apache2 "$work/etc-apache2"
have_varlib=0
if [ -d /var/lib/apache2 ]; then cp -a /var/lib/apache2 "$work/var-lib-apache2"; have_varlib=1; fi

# Debian's envvars, with a pid file, lock and log directory of our own.
cat > "$work/envvars" <<ENV
. /etc/apache2/envvars
export APACHE_PID_FILE=$work/run/apache2.pid
export APACHE_RUN_DIR=$work/run
export APACHE_LOCK_DIR=$work/lock
export APACHE_LOG_DIR=$work/log
ENV
mkdir -p "$work/run" "$work/lock" "$work/log"
export APACHE_ENVVARS=$work/envvars
actl() { apache2ctl "$@"; }
apt_q() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=300 "$@"; }

stop_server() {
  local pid
  pid=$(cat "$work/run/apache2.pid" 2>/dev/null) || return 0
  actl stop >/dev/null 2>&1
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

restore() {
  stop_server
  [ -f "$work/libphp.so.aside" ] && mv -f "$work/libphp.so.aside" $PRIVLIB/libphp.so
  rm -f $PRIVLIB/extensions/xdebug.so /etc/mod-trueasync/mods-available/xdebug.ini /etc/mod-trueasync/conf.d/*-xdebug.ini
  if dpkg-query -W -f='${Status}' $PKG $PKG-dev 2>/dev/null | grep -q 'installed\|config-files'; then
    apt_q purge $PKG-dev $PKG >/dev/null 2>&1
  fi
  rm -rf /etc/apache2 && cp -a "$work/etc-apache2" /etc/apache2
  if [ $have_varlib = 1 ]; then rm -rf /var/lib/apache2 && cp -a "$work/var-lib-apache2" /var/lib/apache2; fi
  rm -rf "$work"
}
trap restore EXIT

# GET url: prints "status\nServer header\nbody"
get() {
  curl -s -m 10 -D "$work/h" -o "$work/b" "$1" >/dev/null 2>&1 || { echo 000; return; }
  awk 'NR==1{print $2}' "$work/h"
  grep -i '^Server:' "$work/h" | tr -d '\r'
  cat "$work/b"
}
# wait_for URL REGEX: until GET's output matches (20 s)
wait_for() {
  local out
  for _ in $(seq 1 100); do
    out=$(get "$1")
    grep -Eq -- "$2" <<<"$out" && return 0
    sleep 0.2
  done
  return 1
}
base=http://127.0.0.1:$PORT

# GET /trueasync/info until its extension list has (or, with !, lacks) NAME
ext_loaded() {
  local want=$1 neg=0
  [ "${want#!}" != "$want" ] && { neg=1; want=${want#!}; }
  for _ in $(seq 1 100); do
    if get "$base/trueasync/info" | grep -q "\"$want\""; then [ $neg = 0 ] && return 0
    else [ $neg = 1 ] && return 0; fi
    sleep 0.2
  done
  return 1
}

# The package's extensions are on; ta-phpdismod/ta-phpenmod switch one; the
# -dev package builds one more from a Debian source package.
extensions_test() {
  local e cache=${TRUEASYNC_CACHE:-/var/cache/mod_trueasync} dir
  for e in intl gd bcmath zip sodium pgsql pdo_pgsql redis apcu igbinary msgpack imagick; do
    check "extension $e is in the package and loaded" ext_loaded "$e"
  done
  check "ta-phpdismod intl" ta-phpdismod intl
  actl graceful >/dev/null 2>&1
  check "... after a graceful restart intl is off" ext_loaded '!intl'
  check "ta-phpenmod intl" ta-phpenmod intl
  actl graceful >/dev/null 2>&1
  check "... and on again" ext_loaded intl

  if apt_q install "$devdeb" >"$work/apt-dev.log" 2>&1; then ok "apt install ./$(basename "$devdeb")"; else
    not_ok "apt install ./$(basename "$devdeb")" "$(tail -5 "$work/apt-dev.log")"; return; fi
  dpkg -L $PKG-dev > "$work/devfiles"
  check_out "ta-php-config names the installed extension directory" "^$PRIVLIB/extensions\$" ta-php-config --extension-dir
  check_out "... and the installed headers" "-I$PRIVLIB/include/php" ta-php-config --includes
  # xdebug: of the PECL sources Debian's mirror serves whole, one with no
  # library of its own to install
  mkdir -p "$cache/src"
  (cd "$cache/src" && { ls xdebug_*.dsc >/dev/null 2>&1 || apt-get source -qq --download-only xdebug; }) >"$work/ext.log" 2>&1
  dir=$work/xdebug
  if dpkg-source -x "$(ls "$cache"/src/xdebug_*.dsc | sort -V | tail -1)" "$dir" >>"$work/ext.log" 2>&1 \
     && cd "$(ls -d "$dir"/xdebug-3.*/ | sort -V | tail -1)" \
     && { ta-phpize && ./configure --with-php-config=ta-php-config && make -j2 && make install; } >>"$work/ext.log" 2>&1; then
    ok "xdebug from Debian's source builds and installs with ta-phpize only"
  else
    not_ok "xdebug from Debian's source builds and installs with ta-phpize only" "$(tail -5 "$work/ext.log")"
  fi
  cd "$ROOT"
  check "... into $PRIVLIB/extensions" test -f $PRIVLIB/extensions/xdebug.so
  printf 'zend_extension=xdebug.so\nxdebug.mode=off\n' > /etc/mod-trueasync/mods-available/xdebug.ini
  check "ta-phpenmod xdebug" ta-phpenmod xdebug
  actl graceful >/dev/null 2>&1
  check "... a request sees xdebug loaded" ext_loaded xdebug
  check_out "... and the example worker still answers" '^Hello, World!$' get "$base/trueasync/hello"
  ta-phpdismod xdebug >/dev/null 2>&1
  rm -f $PRIVLIB/extensions/xdebug.so /etc/mod-trueasync/mods-available/xdebug.ini
  actl graceful >/dev/null 2>&1
  check "... and not after ta-phpdismod and its removal" ext_loaded '!xdebug'
}

echo "# lintian $deb"
check_out "lintian: no errors" '^lintian-ok$' bash -c "lintian --fail-on error '$deb' '$devdeb' >'$work/lintian' 2>&1 && echo lintian-ok || cat '$work/lintian'"
grep -E '^[EW]:' "$work/lintian" | sed 's/^/#   /'
check_out "the package has the README and docs/, uncompressed (README's links lead there)" \
  "/usr/share/doc/$PKG/docs/directives\.md\$" dpkg -c "$deb"

echo "# make install / uninstall into a staging DESTDIR"
stage=$work/stage
if make --no-print-directory install DESTDIR="$stage" >"$work/make-install.log" 2>&1; then
  ok "make install DESTDIR=..."
  listed=$(PHP_CONFIG=$(cat build/php-config.path) scripts/install.sh list | sort)
  # (but the links of enabled extensions, which ta-phpenmod made)
  found=$(cd "$stage" && find . -type f -o -type l | sed 's|^\.||' | grep -v '^/etc/mod-trueasync/conf\.d/' | sort)
  if [ "$listed" = "$found" ]; then ok "make install put exactly the listed files"; else
    not_ok "make install put exactly the listed files" "$(diff <(echo "$listed") <(echo "$found") | head -5 | tr '\n' ' ')"; fi
  check "... module found where apxs -q LIBEXECDIR says" test -f "$stage$(apxs -q LIBEXECDIR)/mod_trueasync.so"
  check_out "... installed module's RUNPATH is $PRIVLIB" "RUNPATH.*\[$PRIVLIB\]" readelf -d "$stage$(apxs -q LIBEXECDIR)/mod_trueasync.so"
  DESTDIR=$stage scripts/install.sh uninstall >/dev/null 2>&1
  left=$(cd "$stage" && find . -type f -o -type l | head -5)
  if [ -z "$left" ]; then ok "make uninstall removed every installed file"; else not_ok "make uninstall removed every installed file" "$left"; fi
  left=$(cd "$stage" && find . -path '*trueasync*' | head -5)
  if [ -z "$left" ]; then ok "... and the module's own directories"; else not_ok "... and the module's own directories" "$left"; fi
else
  not_ok "make install DESTDIR=..." "$(tail -5 "$work/make-install.log")"
fi

echo "# make install / uninstall on this machine"
if make --no-print-directory install >"$work/make-install.log" 2>&1; then ok "make install"; else
  not_ok "make install" "$(tail -5 "$work/make-install.log")"; fi
check "... a2enmod trueasync" a2enmod -q trueasync
check "... apachectl configtest" actl configtest
check_out "... apachectl -M lists it" '^ *trueasync_module \(shared\)' actl -M
check "make uninstall (disables it first)" make --no-print-directory uninstall
left=$(PHP_CONFIG=$(cat build/php-config.path) scripts/install.sh list | while read -r f; do [ -e "$f" ] && echo "$f"; done)
left+=$(ls -d /etc/apache2/mods-enabled/trueasync.* /etc/mod-trueasync $PRIVLIB /usr/share/mod-trueasync 2>/dev/null)
if [ -z "$left" ]; then ok "... nothing of it is left"; else not_ok "... nothing of it is left" "$left"; fi
check "... and Apache's configuration still passes" actl configtest

echo "# apt install $deb"
if apt_q install "$deb" >"$work/apt.log" 2>&1; then ok "apt install ./$(basename "$deb")"; else
  not_ok "apt install ./$(basename "$deb")" "$(tail -5 "$work/apt.log")"; exit 1; fi
dpkg -L $PKG > "$work/files"
check "module in /usr/lib/apache2/modules" test -f /usr/lib/apache2/modules/mod_trueasync.so
check "private libphp in $PRIVLIB" test -f $PRIVLIB/libphp.so
check_out "module finds it by RUNPATH, no LD_LIBRARY_PATH" "libphp\.so => $PRIVLIB/libphp\.so" env -u LD_LIBRARY_PATH ldd /usr/lib/apache2/modules/mod_trueasync.so
check_out "php.ini is a conffile" '/etc/mod-trueasync/php.ini' dpkg-query -W -f='${Conffiles}' $PKG
check "trueasync.load and .conf in mods-available" test -f /etc/apache2/mods-available/trueasync.load -a -f /etc/apache2/mods-available/trueasync.conf
check "not enabled by installing (a2enmod does it)" test ! -e /etc/apache2/mods-enabled/trueasync.load

check "a2enmod trueasync" a2enmod -q trueasync
check "mods-enabled has trueasync.load and .conf" test -L /etc/apache2/mods-enabled/trueasync.load -a -L /etc/apache2/mods-enabled/trueasync.conf

# The test port instead of 80/443, in Debian's own ports.conf.
echo "Listen 127.0.0.1:$PORT" > /etc/apache2/ports.conf
check "apachectl configtest" actl configtest
check_out "apachectl -M lists trueasync_module (shared)" '^ *trueasync_module \(shared\)' actl -M
check_out "apachectl -t -D DUMP_MODULES lists it" '^ *trueasync_module \(shared\)' actl -t -D DUMP_MODULES
check_out "apachectl -V still works" '^Server MPM: *event' actl -V

if actl start >"$work/start.log" 2>&1 && wait_for "$base/trueasync/" 'Hello from mod_trueasync'; then
  ok "apachectl start: the example worker answers on /trueasync/"
else
  not_ok "apachectl start: the example worker answers on /trueasync/" "$(cat "$work/start.log" "$work/log/error.log" 2>/dev/null | tail -5)"
fi
check_out "/trueasync/hello" '^Hello, World!$' get "$base/trueasync/hello"
# The private PHP reads the installed php.ini and loads opcache from its
# own extension directory.
info=$(get "$base/trueasync/info")
check_out "ZTS PHP with /etc/mod-trueasync/php.ini" '"php_ini": "/etc/mod-trueasync/php.ini"' echo "$info"
check_out "... its memory_limit (128M)" '"memory_limit": "128M"' echo "$info"
check_out "... and opcache from $PRIVLIB/extensions" '"opcache_enabled": true' echo "$info"
extensions_test
tokens=$(grep -Rhi '^[[:space:]]*ServerTokens' /etc/apache2/apache2.conf /etc/apache2/conf-enabled/ 2>/dev/null | tail -1 | awk '{print $2}')
if [ -n "$tokens" ] && [ "${tokens,,}" != full ]; then
  if grep -qi '^Server:.*mod_trueasync' <<<"$(get "$base/trueasync/hello")"; then
    not_ok "ServerTokens $tokens: no module version in the Server header"; else
    ok "ServerTokens $tokens: no module version in the Server header"; fi
fi

# A graceful restart that also turns ServerTokens Full on.
echo "ServerTokens Full" > /etc/apache2/conf-enabled/zz-trueasync-test.conf
check "apachectl graceful" actl graceful
if wait_for "$base/trueasync/hello" "^Server:.*mod_trueasync/$(cat VERSION)"; then
  ok "after graceful: answers, and ServerTokens Full shows mod_trueasync/$(cat VERSION)"
else
  not_ok "after graceful: answers, and ServerTokens Full shows mod_trueasync/$(cat VERSION)" "$(get "$base/trueasync/hello" | head -3 | tr '\n' ' ')"
fi
check_out "/trueasync/sleep after graceful" '"slept_ms"' get "$base/trueasync/sleep?ms=50"
rm -f /etc/apache2/conf-enabled/zz-trueasync-test.conf

check "a2dismod trueasync" a2dismod -q trueasync
check "apachectl graceful" actl graceful
if wait_for "$base/trueasync/" '^404$'; then ok "disabled: /trueasync/ is 404"; else not_ok "disabled: /trueasync/ is 404"; fi
if grep -q trueasync_module <<<"$(actl -M 2>&1)"; then not_ok "apachectl -M no longer lists it"; else ok "apachectl -M no longer lists it"; fi
crashes=$(grep -E 'exit signal|child pid [0-9]+ exit signal|Segmentation' "$work/log/error.log" 2>/dev/null | head -3)
if [ -z "$crashes" ]; then ok "no child crashed"; else not_ok "no child crashed" "$crashes"; fi
stop_server

echo "# refusal: the private ZTS PHP is gone"
a2enmod -q trueasync
mv $PRIVLIB/libphp.so "$work/libphp.so.aside"
check_out "configtest fails naming the missing libphp and what to do" \
  "its ZTS PHP $PRIVLIB/libphp\.so.*is missing.*apt install --reinstall $PKG" actl configtest
if actl configtest >/dev/null 2>&1; then not_ok "... configtest exits non-zero"; else ok "... configtest exits non-zero"; fi
mv "$work/libphp.so.aside" $PRIVLIB/libphp.so
check "... and passes with it back" actl configtest
a2dismod -q trueasync

echo "# apt remove, apt purge"
check "apt purge $PKG-dev" apt_q purge $PKG-dev
left=$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done < "$work/devfiles")
if [ -z "$left" ]; then ok "... none of its files is left"; else not_ok "... none of its files is left" "$(head -3 <<<"$left" | tr '\n' ' ')"; fi
check "apt remove" apt_q remove $PKG
check_out "removed: only the conffiles remain" '^deinstall ok config-files$' dpkg-query -W -f='${Status}' $PKG
conffiles=$(dpkg-query -W -f='${Conffiles}\n' $PKG | awk 'NF {print $1}')
left=$(while read -r f; do [ -f "$f" ] || [ -L "$f" ] || continue; grep -qxF "$f" <<<"$conffiles" || echo "$f"; done < "$work/files")
if [ -z "$left" ]; then ok "... no other file of the package is left"; else not_ok "... no other file of the package is left" "$(head -3 <<<"$left" | tr '\n' ' ')"; fi
check "apt purge" apt_q purge $PKG
check "purged: dpkg forgot the package" bash -c "! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null | grep -q ."
left=$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done < "$work/files")
if [ -z "$left" ]; then ok "... none of its files is left"; else not_ok "... none of its files is left" "$(head -3 <<<"$left" | tr '\n' ' ')"; fi
left=$(ls -d /etc/mod-trueasync $PRIVLIB /usr/share/mod-trueasync /usr/share/doc/$PKG \
         /etc/apache2/mods-enabled/trueasync.* /var/lib/apache2/module/*/trueasync 2>/dev/null)
if [ -z "$left" ]; then ok "... nor its directories, links or a2enmod state"; else not_ok "... nor its directories, links or a2enmod state" "$left"; fi

# Our test port back; then everything must be as it was.
cp -a "$work/etc-apache2/ports.conf" /etc/apache2/ports.conf
d=$(diff -r "$work/etc-apache2" /etc/apache2 2>&1 | head -5)
if [ -z "$d" ]; then ok "/etc/apache2 is as it was"; else not_ok "/etc/apache2 is as it was" "$d"; fi
if [ $have_varlib = 1 ]; then
  # a2enmod's state: files and links (it leaves its empty state directories)
  d=$(diff <(cd "$work/var-lib-apache2" && find . ! -type d | sort) <(cd /var/lib/apache2 && find . ! -type d | sort) 2>&1 | head -5)
  if [ -z "$d" ]; then ok "/var/lib/apache2 is as it was"; else not_ok "/var/lib/apache2 is as it was" "$d"; fi
fi

echo "1..$n"
if [ $failed -ne 0 ]; then echo "deb-test: $failed of $n failed"; exit 1; fi
echo "deb-test: all $n passed"
