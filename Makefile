# mod_trueasync: the two commands a user needs are `make run` and `make test`.
BUILD := build
PHP_CONFIG_FILE := $(BUILD)/php-config.path
PORT ?= 8080
# PHP_CONFIG=/path/to/php-config picks another ZTS+embed PHP (scripts/setup.sh)
export PHP_CONFIG TRUEASYNC_CACHE

.PHONY: all setup module module-asan module-install install uninstall deb deb-test run test unit apache-test asan-test bench bench-chaos bench-soak bench-shared clean stubs
all: module

# Installs Debian packages and the cached ZTS PHP when missing (fast when present).
setup:
	@mkdir -p $(BUILD)
	@scripts/setup.sh > $(PHP_CONFIG_FILE).tmp && mv $(PHP_CONFIG_FILE).tmp $(PHP_CONFIG_FILE)

module: setup
	@$(MAKE) --no-print-directory -f Makefile.apxs PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) BUILD=$(BUILD)

# The same sources instrumented for scripts/apache-test.sh --asan. ASan
# reports are made recoverable so halt_on_error=0 (scripts/asan-httpd) can
# keep the server up after one; UBSan recovers by default.
ASAN_FLAGS := -fsanitize=address,undefined -fsanitize-recover=address -fno-omit-frame-pointer
module-asan: setup $(BUILD)/asan/nodeepbind.so
	@$(MAKE) --no-print-directory -f Makefile.apxs PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) BUILD=$(BUILD)/asan SAN="$(ASAN_FLAGS)"

# dlopen() without RTLD_DEEPBIND for the ASan httpd (see the source)
$(BUILD)/asan/nodeepbind.so: tests/asan/nodeepbind.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Wall -Wextra -O2 -shared -fPIC -o $@ $< -ldl

# The installed build (make install, make deb): its private copy of libphp
# in PRIVLIB (RUNPATH), its php.ini at PHPINI. scripts/install.sh has the
# same paths.
PRIVLIB := /usr/lib/mod-trueasync
PHPINI := /etc/mod-trueasync/php.ini
module-install: setup
	@$(MAKE) --no-print-directory -f Makefile.apxs PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) BUILD=$(BUILD)/install \
	    PRIVLIB=$(PRIVLIB) PHPINI=$(PHPINI)

# DESTDIR=... installs into a staging tree.
install: module-install
	PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) BUILD=$(abspath $(BUILD))/install scripts/install.sh install

uninstall:
	scripts/install.sh uninstall

# build/deb/libapache2-mod-trueasync_<version>_<arch>.deb (debian/, dh_apache2)
deb: setup
	PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) scripts/build-deb.sh

# Installs that .deb into this machine's Apache and takes it out again
# (part of `make test`).
deb-test: deb
	scripts/deb-test.sh

# stubs/<file>_arginfo.h from the stubs/<file>.stub.php parts, with PHP's
# gen_stub.php (commit them: `make test` fails when one is not what its stub
# makes), and build/trueasync.stub.php, the parts in one file for IDEs.
stubs: setup
	@PHP_CONFIG=$$(cat $(PHP_CONFIG_FILE)) BUILD=$(BUILD) scripts/stubs.sh

run: module
	scripts/run-server.sh $(PORT)

# C unit tests: the Apache-free parts under ASan/UBSan/LSan, then the reactor
# against a real embedded PHP under valgrind and under the sanitizers.
unit: setup
	@$(MAKE) --no-print-directory -C tests/unit PHP_CONFIG=$$(cat $(abspath $(PHP_CONFIG_FILE)))
	@$(MAKE) --no-print-directory -C tests/reactor PHP_CONFIG=$$(cat $(abspath $(PHP_CONFIG_FILE)))

apache-test: module
	scripts/apache-test.sh

# The Apache::Test suite against the ASan/UBSan build (part of `make test`).
asan-test: module-asan
	scripts/apache-test.sh --asan

test: module
	scripts/test.sh

bench: module
	bench/run.sh

# On demand, not part of `make test`: requests lost under restarts, kill -9
# and fatal errors; memory over a million requests (SOAK_REQUESTS=100000);
# replies of shared handles that reach the wrong request (SHARED_SECONDS=60).
bench-chaos: module
	bench/chaos.sh

bench-soak: module
	bench/soak.sh $(SOAK_REQUESTS)

bench-shared: module
	bench/shared.sh $(SHARED_SECONDS)

clean:
	rm -rf $(BUILD)
	@$(MAKE) --no-print-directory -C tests/unit clean 2>/dev/null || true
	@$(MAKE) --no-print-directory -C tests/reactor clean 2>/dev/null || true
