# specbase build (GNU make).
#
#   make            build/specbase
#   make run        install what is missing, build, serve examples/shop.spec
#   make check      install what is missing, build plain and sanitized trees,
#                   run lint and every test on both; ends with "N passed, N failed"
#   make sanitize   the same tree built with ASan+UBSan into build-san/
#   make lint       banned functions in src/ and tests/
#   make fuzz       libFuzzer on the spec front end for FUZZ_SECONDS (default 60)
#   make fuzz-body  libFuzzer on the body and filter validator, likewise
#   make fuzz-query libFuzzer on the query-string parser, likewise
#   make fuzz-fts   libFuzzer on the full-text query converter, likewise
#   make fuzz-jwt   libFuzzer on the access-token verifier, likewise
#   make bench      parse+check time for 10, 100, 1000 and 5000 collections
#   make deps       scripts/install-deps.sh (Debian packages, idempotent)
#
# Every src/**/*.c except src/main.c goes into $(BUILD)/libspecbase.a, so new
# files are picked up without editing this file. Libraries come from
# pkg-config (PKGS). One tree per build directory: build/, build-san/,
# build-fuzz/; the sanitized and fuzz trees are sub-makes with other flags.

.DEFAULT_GOAL := build
SHELL := /bin/bash

CC    ?= cc
PKGS  := sqlite3 jansson libsodium libmicrohttpd libcrypto
BUILD ?= build
OPT   ?= -O2
SAN   ?=

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PKG_OK     := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(OPT) -g -Isrc \
             $(SAN) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(SAN) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRCS  := $(shell find src -name '*.c' ! -path src/main.c | LC_ALL=C sort)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/src/main.o
LIB       := $(BUILD)/libspecbase.a
BIN       := $(BUILD)/specbase
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60

# Sub-makes run in parallel unless the caller already chose -j (MAKEFLAGS
# shows -j only when recipes are expanded, hence the deferred "=").
JOBS := $(shell nproc 2>/dev/null || echo 2)
PAR   = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))
SUBMAKE = $(MAKE) --no-print-directory $(PAR)

.SECONDARY: # keep the objects of the test programs (otherwise deleted as intermediate)
.PHONY: build lib tests sanitize deps run check lint fuzz fuzz-build fuzz-body fuzz-query bench clean pkgcheck

build: $(BIN)
lib: $(LIB)
tests: $(TEST_BINS) $(BUILD)/tests/crash_writer $(BUILD)/tests/http_echo

pkgcheck:
	@if [ "$(PKG_OK)" != yes ]; then \
	    echo "specbase: missing libraries (pkg-config: $(PKGS)); run 'make deps'" >&2; exit 1; fi

$(BUILD)/obj/%.o: %.c | pkgcheck
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# the crash test's load-and-verify program (tests/crash/run.sh)
$(BUILD)/tests/crash_writer: $(BUILD)/obj/tests/crash/crash_writer.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# the HTTP layer alone behind an echo handler (tests/http/, bench/http.sh)
$(BUILD)/tests/http_echo: $(BUILD)/obj/tests/http/echo_server.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

sanitize:
	@$(SUBMAKE) BUILD=build-san OPT=-O1 SAN='$(SAN_FLAGS)' build tests

deps:
	@scripts/install-deps.sh

# deps first, in its own make, so that pkg-config sees what it installed
# serves examples/shop.spec on http://127.0.0.1:3000 (PORT=...), its data in
# build/shop.db; Ctrl-C stops it
PORT ?= 3000
run:
	@$(SUBMAKE) deps
	@$(SUBMAKE) build
	build/specbase serve examples/shop.spec --db build/shop.db --port $(PORT)

check:
	@$(SUBMAKE) deps
	@$(SUBMAKE) build tests
	@$(SUBMAKE) sanitize
	@tests/run-all.sh build build-san

lint:
	@scripts/lint.sh

# The fuzz tree: the library built by clang with the fuzzer's coverage hooks
# and the sanitizers, the target linked with libFuzzer. Warnings stay on but
# are not errors here: gcc's build enforces them, and a clang-only warning
# should not stop a fuzzing run. The committed seeds and examples/*.spec are
# copied into build-fuzz/corpus, where the fuzzer also keeps what it finds.
fuzz-build:
	@$(SUBMAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN='-fsanitize=fuzzer-no-link $(SAN_FLAGS)' \
	    EXTRA_CFLAGS=-Wno-error build-fuzz/fuzz_spec build-fuzz/fuzz_query

$(BUILD)/fuzz_spec: tests/fuzz/fuzz_spec.c $(LIB)
	$(CC) $(ALL_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)

fuzz:
	@$(SUBMAKE) deps
	@$(SUBMAKE) fuzz-build
	@mkdir -p build-fuzz/corpus
	@cp tests/fuzz/corpus/spec/* build-fuzz/corpus/
	@if compgen -G 'examples/*.spec' >/dev/null; then cp examples/*.spec build-fuzz/corpus/; fi
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-fuzz/fuzz_spec -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -dict=tests/fuzz/spec.dict -artifact_prefix=build-fuzz/ build-fuzz/corpus

# The body validator's target: the same fuzz tree, its own corpus directory.
fuzz-body:
	@$(SUBMAKE) deps
	@$(SUBMAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN='-fsanitize=fuzzer-no-link $(SAN_FLAGS)' \
	    EXTRA_CFLAGS=-Wno-error build-fuzz/fuzz_body
	@mkdir -p build-fuzz/corpus-body
	@cp tests/fuzz/corpus/body/* build-fuzz/corpus-body/
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-fuzz/fuzz_body -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -dict=tests/fuzz/body.dict -artifact_prefix=build-fuzz/body- build-fuzz/corpus-body

$(BUILD)/fuzz_body: tests/fuzz/fuzz_body.c $(LIB)
	$(CC) $(ALL_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)

# The query-string parser's target: built by fuzz-build, its own corpus directory.
fuzz-query:
	@$(SUBMAKE) deps
	@$(SUBMAKE) fuzz-build
	@mkdir -p build-fuzz/corpus-query
	@cp tests/fuzz/corpus/query/* build-fuzz/corpus-query/
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-fuzz/fuzz_query -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
	    -dict=tests/fuzz/query.dict -artifact_prefix=build-fuzz/query- build-fuzz/corpus-query

$(BUILD)/fuzz_query: tests/fuzz/fuzz_query.c $(LIB)
	$(CC) $(ALL_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)

# The full-text query converter's target: the same fuzz tree, its own corpus
# directory; every expression it writes is run through FTS5.
.PHONY: fuzz-fts
fuzz-fts:
	@$(SUBMAKE) deps
	@$(SUBMAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN='-fsanitize=fuzzer-no-link $(SAN_FLAGS)' \
	    EXTRA_CFLAGS=-Wno-error build-fuzz/fuzz_fts
	@mkdir -p build-fuzz/corpus-fts
	@cp tests/fuzz/corpus/fts/* build-fuzz/corpus-fts/
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-fuzz/fuzz_fts -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -artifact_prefix=build-fuzz/fts- build-fuzz/corpus-fts

$(BUILD)/fuzz_fts: tests/fuzz/fuzz_fts.c $(LIB)
	$(CC) $(ALL_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)
-include $(BUILD)/fuzz_fts.d

# The access-token verifier's target: the same fuzz tree, its own corpus
# directory; a fixed HS256 secret and a fixed clock (tests/fuzz/fuzz_jwt.c).
.PHONY: fuzz-jwt
fuzz-jwt:
	@$(SUBMAKE) deps
	@$(SUBMAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN='-fsanitize=fuzzer-no-link $(SAN_FLAGS)' \
	    EXTRA_CFLAGS=-Wno-error build-fuzz/fuzz_jwt
	@mkdir -p build-fuzz/corpus-jwt
	@cp tests/fuzz/corpus/jwt/* build-fuzz/corpus-jwt/
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-fuzz/fuzz_jwt -max_total_time=$(FUZZ_SECONDS) -max_len=12288 -timeout=10 \
	    -artifact_prefix=build-fuzz/jwt- build-fuzz/corpus-jwt

$(BUILD)/fuzz_jwt: tests/fuzz/fuzz_jwt.c $(LIB)
	$(CC) $(ALL_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)
-include $(BUILD)/fuzz_jwt.d

bench: build
	@bench/spec.sh build/specbase

# the records API against Platformatic DB, json-server and nginx (docs/performance.md)
bench-api: build
	@bench/api.sh

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_SRCS:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d)
-include $(BUILD)/obj/tests/http/echo_server.d
-include $(BUILD)/fuzz_spec.d $(BUILD)/fuzz_body.d $(BUILD)/fuzz_query.d $(BUILD)/obj/tests/crash/crash_writer.d
