# mk/issue6.mk — targets for the people who use syfosim (issue 6): the
# browser test of the HTML report, the notebooks data, fuzzing of the input
# parsers, valgrind memcheck and the documentation install.  Included by the
# top-level Makefile (-include mk/*.mk); uses its $(BIN), $(BUILD), $(LIB).
#
#   make test-browser            headless Chromium renders the report (needs chromium)
#   make notebooks-data          regenerate notebooks-data/ (deterministic)
#   make fuzz [FUZZ_SECONDS=60]  libFuzzer on the scenario parser and the CSV reader (clang)
#   make fuzz-regress            replay the seed corpus and the regression inputs
#   make test-valgrind           memcheck on short runs of every subcommand
#   make install-docs            man page and docs under $(PREFIX)/share

.PHONY: test-browser notebooks-data fuzz fuzz-build fuzz-regress test-valgrind install-docs

test-browser: $(BIN)
	@sh scripts/test-browser.sh $(BIN)

notebooks-data: $(BIN)
	@sh scripts/notebooks-data.sh $(BIN) notebooks-data

# --- fuzzing ---------------------------------------------------------------
# The library is rebuilt with clang into $(FUZZ_BUILD) with ASan + UBSan and
# libFuzzer's coverage instrumentation; each target is linked with
# -fsanitize=fuzzer.  New inputs go to $(FUZZ_BUILD)/corpus-NAME (the seeds in
# tests/fuzz/corpus/NAME are read, never written); a crash is saved as
# $(FUZZ_BUILD)/crash-NAME-* and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := scenario csv
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# (Only in the top-level make: the sub-make that builds the fuzz library has
# BUILD = $(FUZZ_BUILD) and must not see these rules again.)
ifneq ($(BUILD),$(FUZZ_BUILD))
.PHONY: fuzz-lib
fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	  CFLAGS="-std=c17 -O1 -g -fopenmp $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_BUILD)/libsyfosim.a

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c fuzz-lib
	$(FUZZ_CC) $(CPPFLAGS) -std=c17 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -fopenmp \
	  -o $@ $< $(FUZZ_BUILD)/libsyfosim.a $(LDLIBS)
endif

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  ./$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	    -dict=tests/fuzz/$$t.dict \
	    $(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz-$$t.log || \
	    { tail -n 60 $(FUZZ_BUILD)/fuzz-$$t.log; echo "fuzz $$t: CRASH (see $(FUZZ_BUILD)/crash-$$t-*)"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_BUILD)/fuzz-$$t.log; \
	  grep -E 'Done [0-9]+ runs' $(FUZZ_BUILD)/fuzz-$$t.log || true; \
	done

# Every seed and every regression input once through the instrumented targets.
fuzz-regress: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  files=$$(ls tests/fuzz/corpus/$$t/* tests/fuzz/regressions/$$t/* 2>/dev/null || true); \
	  echo "== $$t: $$(echo $$files | wc -w) inputs"; \
	  ./$(FUZZ_BUILD)/fuzz_$$t -runs=1 $$files 2>$(FUZZ_BUILD)/regress-$$t.log || \
	    { tail -n 40 $(FUZZ_BUILD)/regress-$$t.log; exit 1; }; \
	done; echo "fuzz-regress: no crash"

# --- valgrind ----------------------------------------------------------------
VALGRIND ?= valgrind
VG := $(VALGRIND) -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
      --track-origins=yes

VG_SMALL := --set population.persons=3000 --set world.offices=4

test-valgrind: $(BIN)
	@set -e; d=$$(mktemp -d /tmp/syf_valgrind.XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	run() { echo "== valgrind syfosim $$*"; $(VG) $(BIN) "$$@" >$$d/log 2>&1 || \
	  { cat $$d/log; echo "test-valgrind: FAIL: syfosim $$*"; exit 1; }; }; \
	run check scenarios/msyfo-triage.ini; \
	run explain scenarios/msyfo-triage.ini; \
	run run scenarios/msyfo-triage.ini $(VG_SMALL) --out $$d/o; \
	run diagnose scenarios/msyfo-triage.ini $(VG_SMALL) --reps 4 --threads 2 --null --out $$d/o; \
	run report $$d/o; \
	run sweep scenarios/msyfo-triage.ini $(VG_SMALL) --set pilot.effect_hr=1.15,1.5 --reps 2 \
	  --out $$d/s; \
	run report $$d/s; \
	run estimate --data tests/data/petersen.csv --outcome y --treat x --cluster firm \
	  --method ols --se CR2 --format csv; \
	echo "== valgrind: bad input paths (exit 2 expected, no memory error)"; \
	printf 'a,b\n1,2,3\n' >$$d/bad.csv; \
	for args in "estimate --data $$d/bad.csv --outcome a --method ols" \
	            "check $$d/missing.ini" "report $$d/empty-dir-that-is-missing"; do \
	  rc=0; $(VG) $(BIN) $$args >$$d/log 2>&1 || rc=$$?; \
	  [ $$rc -eq 2 ] || { cat $$d/log; echo "test-valgrind: FAIL: syfosim $$args: exit $$rc (want 2)"; exit 1; }; \
	done; \
	echo "test-valgrind: no memory errors, no definite leaks"

# --- documentation -----------------------------------------------------------
install-docs:
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/syfosim
	install -m 644 docs/syfosim.1 $(DESTDIR)$(PREFIX)/share/man/man1/syfosim.1
	install -m 644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/syfosim/
	install -m 644 notebooks-data/README.md $(DESTDIR)$(PREFIX)/share/doc/syfosim/notebooks-data.md

# `make install` also installs the man page and the docs.
install: install-docs
