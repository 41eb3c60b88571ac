# attestd - plain GNU Makefile.
#
#   make                      build ./attestd
#   make deps                 install missing Debian packages (root) or say how
#   make check                unit + integration tests, then again under ASan+UBSan
#   make check SANITIZE=address,undefined   only the sanitized run
#   make kill-test [KILLS=50 FILES=500]      kill -9 campaign on the service
#   make instances-test [INSTANCES_FILES=1000]  three instances on one inbox
#   make bench-latency [RATE=200 DURATION=15 IDLE=50 INSTANCES=1]
#   make demo                 a throwaway PostgreSQL under ./var/demo, loaded
#   make install [PREFIX=/usr/local] [DESTDIR=]
#   make clean

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := libxml-2.0 xmlsec1-openssl libcrypto libpq libsystemd inih

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
	-DATTESTD_DATADIR='"$(PREFIX)/share/attestd"' -Idaemon -Iparsers $(PKG_CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC   := $(filter-out daemon/main.c,$(wildcard daemon/*.c parsers/*.c))
EMBED_SRC := $(sort $(wildcard sql/*.sql parsers/schemas/*.xsd))
EMBED_C   := $(BUILD)/gen/embedded.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
MAIN_OBJ  := $(BUILD)/daemon/main.o
LIB       := $(BUILD)/libattestd.a
BIN       := $(BUILD)/attestd
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPFILES  := $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d)

.PHONY: all deps check check-unit check-integration demo demo-stop install clean bench-import \
	kill-test instances-test bench-latency
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
# links only the objects its module needs.
$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -MF $@.d -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS) -lcriterion
	@$(if $(Q),echo "  TEST    $@")

-include $(DEPFILES)

# --- dependencies -----------------------------------------------------------

DEBIAN_PACKAGES := build-essential pkg-config libxml2-dev libxmlsec1-dev libxmlsec1-openssl \
	libssl-dev libpq-dev libsystemd-dev libinih-dev libunistring-dev libcriterion-dev \
	postgresql-15 postgresql-client-15 xmlsec1 openssl tzdata

deps:
	@sh tests/deps.sh $(DEBIAN_PACKAGES)

# --- tests ------------------------------------------------------------------

ifeq ($(SANITIZE),)
check: deps
	$(MAKE) check-unit check-integration
	$(MAKE) check-unit check-integration SANITIZE=address,undefined
else
check: deps
	$(MAKE) check-unit check-integration
endif

check-unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

check-integration: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) bash tests/integration/run.sh

# The big campaigns of the small tests make check runs.
kill-test: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) ONLY=test_kill.sh \
		KILLS=$(or $(KILLS),50) FILES=$(or $(FILES),500) bash tests/integration/run.sh

instances-test: $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) SANITIZE=$(SANITIZE) ONLY=test_instances.sh \
		INSTANCES_FILES=$(or $(INSTANCES_FILES),1000) bash tests/integration/run.sh

# --- demo, benchmarks, install ------------------------------------------------

demo: deps attestd
	@bash contrib/demo/demo.sh

demo-stop:
	@bash -c '. tests/integration/pg.sh && pg_stop var/demo/pg'

bench-import: deps attestd
	@bash tests/bench/import.sh $(if $(LICENCES),$(LICENCES),1000000) $(if $(EVENTS),$(EVENTS),3000000)

bench-latency: deps $(BIN) $(BUILD)/tests/attestd-sign
	@ATTESTD=$(abspath $(BIN)) bash tests/bench/latency.sh

install: attestd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/attestd/sql \
		$(DESTDIR)$(PREFIX)/share/attestd/schemas $(DESTDIR)/etc/attestd
	install -m 0755 attestd $(DESTDIR)$(PREFIX)/bin/attestd
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/attestd/sql/
	if ls parsers/schemas/*.xsd >/dev/null 2>&1; then \
		install -m 0644 parsers/schemas/*.xsd $(DESTDIR)$(PREFIX)/share/attestd/schemas/; fi
	install -m 0640 attestd.conf.example $(DESTDIR)/etc/attestd/attestd.conf.example

clean:
	rm -rf build attestd
include tests/fuzz/fuzz.mk
include tests/fixtures/fixtures.mk
