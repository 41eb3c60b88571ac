# tests/bench/bench.mk - the pipeline benchmark's tools, included at the end
# of the Makefile (it uses BUILD, LIB, MAIN_OBJ, CC and the flags from there).
#
#   make bench [STAGES=1000] [SCAN_BYTES=2048] [BENCH_DIR=DIR]
#                          tests/bench/pipeline.sh: N stages (two signed files
#                          each) through `attestd run --once`, timed
#   make bench-archive [YEARS=3]
#                          tests/bench/archive.sh: YEARS of national volume
#                          generated into PostgreSQL and an archive directory;
#                          the costs that could grow with it, empty vs full
#   make bench-console [YEARS=3 N=300]
#                          tests/bench/console.sh: each page type of attestd
#                          console N times on YEARS of national volume;
#                          p50/p95/p99 per page (targets p95 < 100 ms, the
#                          monthly report < 1 s)
#   $(BUILD)/tests/bench_gen     makes and drops the benchmark's files
#   $(BUILD)/tests/attestd-timed attestd itself, linked with tests/bench/timing.c
#                          and ld --wrap: where run --once spends its time

BENCH_GEN   := $(BUILD)/tests/bench_gen
BENCH_TIMED := $(BUILD)/tests/attestd-timed
# The functions timing.c wraps (keep the two lists equal).
BENCH_WRAP  := parsers_parse schema_set_validate sig_verify rules_check_stage rules_decide \
	ledger_replay ledger_ceiling_at receipt_build sig_sign PQexec PQexecPrepared PQprepare \
	PQexecParams PQconnectdbParams PQsendQueryPrepared \
	PQsendQueryParams PQgetResult PQflush PQsendFlushRequest PQpipelineSync inbox_scan inbox_claim inbox_read archive_put archive_put_all \
	archive_quarantine outbox_write fsync vsyslog

$(BENCH_GEN): tests/bench/bench_gen.c $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)
	@$(if $(Q),echo "  LINK    $@")

$(BENCH_TIMED): tests/bench/timing.c $(MAIN_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(MAIN_OBJ) $(LIB) $(ALL_LDFLAGS) \
		$(addprefix -Wl$(comma)--wrap=,$(BENCH_WRAP)) $(PKG_LIBS)
	@$(if $(Q),echo "  LINK    $@")

comma := ,

.PHONY: bench bench-archive bench-console
bench-console: deps attestd $(BENCH_GEN)
	@BUILD=$(BUILD) YEARS=$(or $(YEARS),3) N=$(or $(N),300) bash tests/bench/console.sh

bench-archive: deps attestd $(BENCH_GEN)
	@BUILD=$(BUILD) bash tests/bench/archive.sh bench $(if $(YEARS),$(YEARS),3)

bench: deps attestd $(BENCH_GEN) $(BENCH_TIMED)
	@bash tests/bench/pipeline.sh $(if $(STAGES),$(STAGES),1000) $(if $(SCAN_BYTES),$(SCAN_BYTES),2048)

-include $(BENCH_GEN).d $(BENCH_TIMED).d
