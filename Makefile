# salvo — build, test and demo.
#
# `make` builds build/salvo; `make test` installs what is missing, builds and
# runs every unit and e2e test (last line: "N passed, N failed");
# `make asan` does the same with ASan/UBSan; `make demo` runs the demo.

CC      ?= cc
BUILD   ?= build
PKGS    := openssl zlib jansson
OPT     ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror \
           -D_GNU_SOURCE $(OPT) -Isrc -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lz -ljansson)
LDLIBS  += $(PKG_LIBS) -lpthread -lm

LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit e2e asan demo fuzz bench clean format

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

# The fuzzer is built only when clang is there; tests/run.sh skips it otherwise.
FUZZ_SRCS := src/http/parser.c
$(BUILD)/fuzz/fuzz_parser: tests/fuzz/fuzz_parser.c $(FUZZ_SRCS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -o $@ $^

fuzz:
	@if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory $(BUILD)/fuzz/fuzz_parser; fi

unit: $(UNIT_BINS)

test: deps
	@$(MAKE) --no-print-directory all unit fuzz
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

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d
