# syfosim — top-level build.
#
#   make            library (build/libsyfosim.a) and CLI (build/syfosim)
#   make test       unit, CLI, validation and calibration tests
#   make test-asan  the same tests in an ASan+UBSan build (build-asan/)
#   make demo       install deps if root, build, run the default scenario
#   make bench      speed benchmarks (not part of test)
#   make MPI=1      build with Open MPI (use a separate BUILD=build-mpi)
#   make install PREFIX=/usr/local
#
# Sources are picked up by wildcard: a new .c file in sim/, models/ or
# analysis/ goes into the library, one in cli/ into the program, and each
# tests/unit/test_*.c becomes one cmocka test program.

CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
SAN     ?=
OPT     ?= -O2
# make MPI=1: the same program with Open MPI support (mpicc, SYF_HAVE_MPI):
# `mpirun -n K build/syfosim diagnose|sweep ...` splits replications over ranks.
MPI     ?=
ifneq ($(MPI),)
CC       = mpicc
CPPFLAGS += -DSYF_HAVE_MPI
endif

GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CPPFLAGS += -Iinclude -D_POSIX_C_SOURCE=200809L
CFLAGS   += -std=c17 $(OPT) -g -Wall -Wextra -Werror -fopenmp $(SAN)
LDFLAGS  += -fopenmp $(SAN)
LDLIBS   += -lgsl -lgslcblas -lcsv -linih -lm

LIB_SRC  := $(sort $(wildcard sim/*.c models/*.c analysis/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIB := $(BUILD)/libsyfosim.a
BIN := $(BUILD)/syfosim

.PHONY: FORCE docs all test test-unit test-cli test-asan bench demo install clean deps

all: $(LIB) $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The git revision is compiled into sim/version.c only, and only rebuilt
# when it changes.
$(BUILD)/git_rev.h: FORCE
	@mkdir -p $(BUILD)
	@echo '#define SYF_GIT_REV "$(GIT_REV)"' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/sim/version.o: CPPFLAGS += -I$(BUILD)
$(BUILD)/sim/version.o: $(BUILD)/git_rev.h

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

# Unit tests run from the repository root so fixtures resolve as tests/data/...
test-unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; ./$$t; done

test-cli: $(BIN)
	@SYFOSIM=$(BIN) sh tests/cli/run-all.sh

test: all
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-cli

test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

bench: all
	@sh bench/run.sh $(BIN)

deps:
	@sh scripts/install-deps.sh

demo:
	@sh scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(BIN)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/syfosim
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/syfosim
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libsyfosim.a
	install -m 644 include/syfosim/*.h $(DESTDIR)$(PREFIX)/include/syfosim/
	install -d $(DESTDIR)$(PREFIX)/share/syfosim/scenarios
	install -m 644 scenarios/*.ini $(DESTDIR)$(PREFIX)/share/syfosim/scenarios/

clean:
	rm -rf build build-asan build-mpi out

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

docs: $(BIN)
	@sh scripts/gen-docs.sh $(BIN)

# Further targets live in mk/*.mk (one file per area: report, fuzz, ...).
-include $(sort $(wildcard mk/*.mk))
