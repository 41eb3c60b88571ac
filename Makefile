# attestd - plain GNU Makefile.
#
#   make                      build ./attestd
#   make deps                 install missing Debian packages (root) or say how
#   make check                unit + integration tests, then again under ASan+UBSan
#   make check SANITIZE=address,undefined   only the sanitized run
#   make demo                 a throwaway PostgreSQL under ./var/demo and a batch through it
#   make bench [STAGES=1000]  run --once over N stages: files/s, RSS, time split
#   make kill-test [KILLS=50 FILES=500]      kill -9 campaign on the service
#   make check-stress [RUNS=5]  the integration suite RUNS times, every core busy (stress-ng)
#   make instances-test [INSTANCES_FILES=1000]  three instances on one inbox
#   make bench-latency [RATE=200 DURATION=15 IDLE=50 INSTANCES=1]
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, attestd-centre, SQL, schemas,
#                             systemd units, sysusers.d, tmpfiles.d, sshd drop-in, example
#                             configuration (directories: see "install" below)
#   make deb                  the Debian package, built in a copy under build/deb
#   make clean

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := libxml-2.0 xmlsec1-openssl libcrypto libpq libsystemd inih
PKGS      += libmicrohttpd

# V=1 shows the full compiler command lines.
Q         := $(if $(V),,@)
SANITIZE  ?=
ifeq ($(SANITIZE),)
BUILD     := build/release
SANFLAGS  :=
else
BUILD     := build/sanitize
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

# pkg-config is asked lazily (=) so that `make deps` works before the
# libraries are there.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lunistring

CFLAGS    ?= -O2 -g
WARN      := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -DATTESTD_VERSION='"$(VERSION)"' \
	-DATTESTD_DATADIR='"$(PREFIX)/share/attestd"' -Idaemon -Iparsers -Iconsole $(PKG_CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC   := $(filter-out daemon/main.c,$(wildcard daemon/*.c parsers/*.c))
LIB_SRC   += $(wildcard console/*.c)
EMBED_SRC := $(sort $(wildcard sql/*.sql parsers/schemas/*.xsd))
EMBED_C   := $(BUILD)/gen/embedded.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
MAIN_OBJ  := $(BUILD)/daemon/main.o
LIB       := $(BUILD)/libattestd.a
BIN       := $(BUILD)/attestd
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPFILES  := $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d)

.PHONY: all deps check check-build check-unit check-integration demo demo-stop install clean bench-import bench \
	bench-purge kill-test instances-test bench-latency check-stress
.DEFAULT_GOAL := all

all: attestd

attestd: $(BIN)
ifeq ($(SANITIZE),)
	@cp -f $(BIN) attestd
else
	@true
endif

$(BIN): $(MAIN_OBJ) $(LIB)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(PKG_LIBS)
	@$(if $(Q),echo "  LINK    $@")

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# The embedded files' table is rebuilt when one of them, or the list, changes.
$(EMBED_C): $(EMBED_SRC) tools/embed.sh $(BUILD)/gen/embedded.list
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh $@ $(EMBED_SRC)

$(BUILD)/gen/embedded.list: FORCE
	@mkdir -p $(dir $@)
	@echo "$(EMBED_SRC)" | cmp -s - $@ || echo "$(EMBED_SRC)" > $@

$(BUILD)/gen/embedded.o: $(EMBED_C)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
	@$(if $(Q),echo "  CC      $<")

# One Criterion binary per module test; the static library means each one
# links only the objects its module needs, and --as-needed only the shared
# libraries those objects call: Criterion runs every test (every parameter
# of a parameterized one) in a new exec of the binary, and loading the
# unused ones (libpq, libmicrohttpd and what they pull in: 55 libraries
# instead of 27 for test_date) was about 15 % of the sanitized unit tests'
# CPU (issue 12).
TEST_LDFLAGS := -Wl,--as-needed
$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -MF $@.d -o $@ $< $(LIB) $(ALL_LDFLAGS) $(TEST_LDFLAGS) \
		$(PKG_LIBS) -lcriterion
	@$(if $(Q),echo "  TEST    $@")

-include $(DEPFILES)

# --- dependencies -----------------------------------------------------------

DEBIAN_PACKAGES := build-essential pkg-config libxml2-dev libxmlsec1-dev libxmlsec1-openssl \
	libssl-dev libpq-dev libsystemd-dev libinih-dev libunistring-dev libcriterion-dev \
	postgresql-15 postgresql-client-15 xmlsec1 openssl tzdata prometheus \
	systemd openssh-server openssh-client acl strace \
	dpkg-dev debhelper lintian mandoc fakeroot man-db bsdextrautils postgresql
DEBIAN_PACKAGES += libmicrohttpd-dev
# test_registry_audit: a private /dev/log (unshare) read by a python3 listener; script(1) for a pty.
DEBIAN_PACKAGES += python3 util-linux bsdutils
DEBIAN_PACKAGES += stress-ng
# The console's browser and HTTP tests (tests/browser, test_console_hostile.sh).
DEBIAN_PACKAGES += chromium poppler-utils curl

deps:
	@sh tests/deps.sh $(DEBIAN_PACKAGES)
	@sh tests/browser/deps.sh

# --- tests ------------------------------------------------------------------

# Each pass first builds what its tests run on every core (the sanitized
# build takes a minute on one), then runs the unit tests and the
# integration tests, which run their own work side by side.
NPROC := $(shell nproc 2>/dev/null || echo 1)
check-build: attestd $(UNIT_BIN) $(BIN) $(BUILD)/tests/attestd-sign

# Each pass says how long it took (its build, unit and integration tests),
# and so do the unit tests and the integration tests (issue 12).
ifeq ($(SANITIZE),)
check: deps
	@t0=$$(date +%s); $(MAKE) -j$(NPROC) check-build && $(MAKE) check-unit check-integration || exit 1; \
	t1=$$(date +%s); echo "check: plain pass: $$((t1 - t0)) s (build, unit and integration tests)"; \
	$(MAKE) -j$(NPROC) check-build SANITIZE=address,undefined && \
		$(MAKE) check-unit check-integration SANITIZE=address,undefined || exit 1; t2=$$(date +%s); \
	echo "check: sanitized pass: $$((t2 - t1)) s (build, unit and integration tests)"; \
	echo "check: both passes: $$((t2 - t0)) s (plain $$((t1 - t0)) s, sanitized $$((t2 - t1)) s)"
else
check: deps
	@t0=$$(date +%s); $(MAKE) -j$(NPROC) check-build && $(MAKE) check-unit check-integration || exit 1; \
	echo "check: sanitized pass: $$(( $$(date +%s) - t0 )) s (build, unit and integration tests)"
endif

check-unit: $(UNIT_BIN)
	@t0=$$(date +%s); bash tests/run-unit.sh $(UNIT_BIN) || exit 1; \
		echo "unit: $(words $(UNIT_BIN)) binaries in $$(( $$(date +%s) - t0 )) s"

check-integration: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) bash tests/integration/run.sh

# The integration suite RUNS times under a CPU hog on every core (issue 12):
# the checks that depend on the machine's speed show up here.  Not in check.
check-stress: deps $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) RUNS=$(or $(RUNS),5) \
		bash tests/integration/stress.sh

# The big campaigns of the small tests make check runs.
kill-test: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) ONLY=test_kill.sh \
		KILLS=$(or $(KILLS),50) FILES=$(or $(FILES),500) bash tests/integration/run.sh

instances-test: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) ONLY=test_instances.sh \
		INSTANCES_FILES=$(or $(INSTANCES_FILES),1000) bash tests/integration/run.sh

# --- demo, benchmarks, install ------------------------------------------------

demo: deps attestd $(BUILD)/tests/attestd-sign
	@bash contrib/demo/demo.sh

demo-stop:
	@bash -c '. tests/integration/pg.sh && pg_stop var/demo/pg'

bench-import: deps attestd
	@bash tests/bench/import.sh $(if $(LICENCES),$(LICENCES),1000000) $(if $(EVENTS),$(EVENTS),3000000)

bench-latency: deps $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) bash tests/bench/latency.sh

bench-purge: deps attestd
	@bash tests/bench/purge.sh

# Where things go.  The units, sysusers.d and tmpfiles.d defaults are in
# systemd's search paths for PREFIX=/usr/local and /usr.  SYSCONFDIR only
# says where the example configuration and the sshd drop-in are copied: the
# daemon reads /etc/attestd/attestd.conf (or --config).  INSTALL_BIN: the
# binary to install (the tests install a sanitized one).
BINDIR           ?= $(PREFIX)/bin
SBINDIR          ?= $(PREFIX)/sbin
PKGDATADIR       ?= $(PREFIX)/share/attestd
DOCDIR           ?= $(PREFIX)/share/doc/attestd
SYSCONFDIR       ?= /etc
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
SYSUSERS_DIR     ?= $(PREFIX)/lib/sysusers.d
TMPFILES_DIR     ?= $(PREFIX)/lib/tmpfiles.d
SSHD_CONFIG_DIR  ?= $(SYSCONFDIR)/ssh/sshd_config.d
INSTALL_BIN      ?= attestd
MANDIR           ?= $(PREFIX)/share/man
COMPLETIONS_DIR  ?= $(PREFIX)/share/bash-completion/completions
# Every unit of systemd/, so that a new one (the console's) is installed and
# packaged without a change here.
UNITS            := $(sort $(wildcard systemd/*.service systemd/*.timer))

# The units name /usr/local/bin/attestd and the README's place as shipped;
# both are rewritten for the chosen directories.
install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGDATADIR)/sql \
		$(DESTDIR)$(PKGDATADIR)/schemas $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/attestd \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(SYSUSERS_DIR) $(DESTDIR)$(TMPFILES_DIR) \
		$(DESTDIR)$(SSHD_CONFIG_DIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/attestd
	install -m 0755 contrib/sftp/attestd-centre $(DESTDIR)$(SBINDIR)/attestd-centre
	install -m 0644 sql/*.sql $(DESTDIR)$(PKGDATADIR)/sql/
	if ls parsers/schemas/*.xsd >/dev/null 2>&1; then \
		install -m 0644 parsers/schemas/*.xsd $(DESTDIR)$(PKGDATADIR)/schemas/; fi
	for u in $(UNITS); do \
		sed -e 's|/usr/local/bin/attestd|$(BINDIR)/attestd|g' \
		    -e 's|/usr/local/share/doc/attestd|$(DOCDIR)|g' $$u \
		    > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} || exit 1; \
	done
	install -m 0644 systemd/attestd.sysusers $(DESTDIR)$(SYSUSERS_DIR)/attestd.conf
	install -m 0644 systemd/attestd.tmpfiles $(DESTDIR)$(TMPFILES_DIR)/attestd.conf
	install -m 0644 systemd/attestd-centres.sshd.conf $(DESTDIR)$(SSHD_CONFIG_DIR)/attestd-centres.conf
	install -m 0640 attestd.conf.example $(DESTDIR)$(SYSCONFDIR)/attestd/attestd.conf.example
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 systemd/README.md $(DESTDIR)$(DOCDIR)/systemd.md
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONS_DIR)
	install -m 0644 man/attestd.8 man/attestd-centre.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/attestd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 contrib/bash-completion/attestd contrib/bash-completion/attestd-centre \
		$(DESTDIR)$(COMPLETIONS_DIR)/

# The Debian package (debian/), built in a copy of the tree under build/deb
# so that dpkg-buildpackage's ../*.deb stays inside build/.  The copy is of
# the files git knows (committed or not), or of the whole tree without git.
DEB := build/deb/attestd_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
DEB_SRC := $(shell git ls-files --cached --others --exclude-standard 2>/dev/null)
.PHONY: deb
deb: $(DEB)
$(DEB): $(DEB_SRC)
	@rm -rf build/deb && mkdir -p build/deb/attestd-$(VERSION)
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -; \
	else tar --exclude=./build --exclude=./var --exclude=./.git --exclude=./attestd -cf - .; fi | \
		tar -xf - -C build/deb/attestd-$(VERSION)
	@cd build/deb/attestd-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	@echo "  DEB     $@"

clean:
	rm -rf build attestd
include tests/fuzz/fuzz.mk
include tests/fixtures/fixtures.mk
include tests/bench/bench.mk
