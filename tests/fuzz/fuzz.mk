# tests/fuzz/fuzz.mk - the libFuzzer target of the parsers, included at the
# end of the Makefile (it uses its LIB_SRC, EMBED_SRC, WARN and PKG_* names).
#
#   make fuzz                    build, then fuzz for FUZZ_SECONDS (600)
#   make fuzz FUZZ_SECONDS=60    a shorter run
#   make fuzz-build              build only: build/fuzz/fuzz_parsers
#
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev).  Seeds are
# tests/fuzz/corpus/ (written by tests/fixtures/docs/generate.py); what the
# fuzzer finds goes to tests/fuzz/corpus-new/ (ignored by git), crashes to
# build/fuzz/.  tests/unit/test_fuzz_corpus.c replays both directories.

FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_parsers
FUZZ_CFLAGS  := $(filter-out -Werror,$(WARN)) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -DATTESTD_VERSION='"$(VERSION)"' -DATTESTD_DATADIR='"$(PREFIX)/share/attestd"' \
	-Idaemon -Iparsers -Itests/fuzz

.PHONY: fuzz fuzz-build fuzz-deps

fuzz-deps: deps
	@sh tests/deps.sh clang libclang-rt-14-dev

fuzz-build: fuzz-deps $(FUZZ_BIN)

$(FUZZ_DIR)/embedded.c: $(EMBED_SRC) tools/embed.sh
	@mkdir -p $(FUZZ_DIR)
	sh tools/embed.sh $@ $(EMBED_SRC)

$(FUZZ_BIN): tests/fuzz/fuzz_parsers.c tests/fuzz/pipeline.h $(LIB_SRC) $(wildcard daemon/*.h parsers/*.h) \
		$(FUZZ_DIR)/embedded.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ tests/fuzz/fuzz_parsers.c $(LIB_SRC) \
		$(FUZZ_DIR)/embedded.c $(PKG_LIBS)

fuzz: fuzz-deps $(FUZZ_BIN)
	@mkdir -p tests/fuzz/corpus-new
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-dict=tests/fuzz/xml.dict -artifact_prefix=$(FUZZ_DIR)/ \
		tests/fuzz/corpus-new tests/fuzz/corpus
