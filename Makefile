# salvo — build, test and demo.
#
# `make` builds build/salvo; `make test` installs what is missing, builds and
# runs every unit and e2e test (last line: "N passed, N failed");
# `make asan` does the same with ASan/UBSan; `make demo` runs the demo.

CC      ?= cc
BUILD   ?= build
PKGS    := openssl zlib jansson libnghttp2 luajit
OPT     ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror \
           -D_GNU_SOURCE $(OPT) -Isrc -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lz -ljansson -lnghttp2 -lluajit-5.1)
# snappy (remote write's block compression) ships no snappy.pc before 1.1.9: plain -lsnappy then.
SNAPPY_LIBS = $(shell pkg-config --libs snappy 2>/dev/null || echo -lsnappy)
LDLIBS  += $(PKG_LIBS) $(SNAPPY_LIBS) -lpthread -lm

LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit e2e asan demo fuzz fuzz-bins fuzz-long bench clean format

all: $(BUILD)/salvo

deps:
	@./scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libsalvo.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/salvo: $(BUILD)/src/main.o $(BUILD)/libsalvo.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsalvo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libsalvo.a -lcmocka $(LDLIBS)

# libFuzzer targets: tests/fuzz/fuzz_NAME.c -> $(BUILD)/fuzz/fuzz_NAME, seeded
# from tests/fuzz/seeds/NAME/. Each links a clang-built ASan/UBSan copy of
# the library (an archive, so a target pulls in only the objects it uses)
# plus tests/fuzz/common.c. UB is fatal so libFuzzer keeps the input. Its
# corpus directory $(BUILD)/fuzz/corpus/NAME is made with it, as libFuzzer
# wants it to exist. clang comes from scripts/install-deps.sh; without it
# tests/run.sh fails (make asan sets SALVO_NO_FUZZ instead).
FUZZ_CC      := clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -Wall -Wextra -MMD -MP $(FUZZ_SAN)
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libsalvo.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/obj/tests/fuzz/common.o $(BUILD)/fuzz/libsalvo.a
	@mkdir -p $(dir $@) $(BUILD)/fuzz/corpus/$*
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -Itests/fuzz $(PKG_CFLAGS) -Wl,--wrap=getaddrinfo -o $@ $(filter %.c %.o %.a,$^) \
	    $(PKG_LIBS) $(SNAPPY_LIBS) -lpthread -lm

fuzz:
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then $(MAKE) --no-print-directory fuzz-bins; \
	else echo "make fuzz: no clang, fuzz targets not built"; fi

# `make fuzz-long`: each target for 10 million executions or 10 minutes,
# whichever comes first. One libFuzzer process per target, so -runs counts
# that target's executions and -max_total_time (wall-clock seconds) is its
# CPU time as long as it has a CPU to itself: FUZZ_JOBS (2, the -jobs=2 of
# issue 17) targets run side by side. libFuzzer's own -jobs=2 would not do:
# it starts two fuzzers that each get the full budget. FUZZ_LONG="NAME ..."
# picks a subset; FUZZ_LONG_RUNS and FUZZ_LONG_TIME change the budget. Corpus in $(BUILD)/fuzz/corpus/NAME (the committed seeds
# stay read-only), logs and crash artifacts in $(BUILD)/fuzz/logs.
FUZZ_LONG ?= $(FUZZ_NAMES)
FUZZ_JOBS ?= 2
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_TIME ?= 600
# libFuzzer's -timeout is wall-clock: on a shared machine (or under nice) a 50 ms input
# was once starved past 2 s and reported as a hang. 10 s still catches real ones.
FUZZ_LONG_TIMEOUT ?= 10
fuzz-bins: $(FUZZ_BINS)

fuzz-long: fuzz
	@$(MAKE) --no-print-directory -k -j$(FUZZ_JOBS) $(FUZZ_LONG:%=fuzz-long/%)

fuzz-long/%:
	@mkdir -p $(BUILD)/fuzz/logs $(BUILD)/fuzz/corpus/$*
	@echo "fuzz-long: $* started (log $(BUILD)/fuzz/logs/$*.log)"
	@$(BUILD)/fuzz/fuzz_$* -runs=$(FUZZ_LONG_RUNS) -max_total_time=$(FUZZ_LONG_TIME) -timeout=$(FUZZ_LONG_TIMEOUT) -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/logs/$*- \
	    $(BUILD)/fuzz/corpus/$* tests/fuzz/seeds/$* >$(BUILD)/fuzz/logs/$*.log 2>&1 \
	    || { echo "fuzz-long: $* FAILED, see $(BUILD)/fuzz/logs/$*.log"; exit 1; }
	@echo "fuzz-long: $* done: $$(grep -E '^#[0-9]+' $(BUILD)/fuzz/logs/$*.log | tail -1)"

unit: $(UNIT_BINS)

# The build runs one job per CPU (JOBS=1 for a serial one): on 2 CPUs that
# is about a minute of make test's budget.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit fuzz
	@BUILD=$(BUILD) ./tests/run.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" all unit
	@BUILD=build-asan SALVO_NO_FUZZ=1 ./tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/salvo demo

bench: deps all
	@./bench/vs-wrk.sh

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
