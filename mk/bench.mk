# bench.mk — the benchmark programs of `make bench` (bench/run.sh): each
# bench/*.c is one program linked to the library, built into BUILD/bench/.
# Never part of `make test`.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

.PHONY: bench-programs
bench-programs: $(BENCH_BIN)
bench: bench-programs
