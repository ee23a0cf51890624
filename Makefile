# ngx_http_payout_module.  `make run` starts a working gateway on
# 127.0.0.1:$(PORT); `make test` runs every test suite.

PORT    ?= 8080
PG_PORT ?= 54329
PYTEST  := /usr/bin/python3 -m pytest
export PORT PG_PORT

CORE_SRCS := $(wildcard src/core/*.c)
CORE_HDRS := $(wildcard src/core/*.h)
MODULE_SRCS := config ngx_http_payout_module.c $(wildcard src/*.c src/*.h) \
               $(CORE_SRCS) $(CORE_HDRS)
CFLAGS_HOST := -g -O1 -Wall -Wextra -Werror -I/usr/include/postgresql \
               -Isrc/core

.PHONY: run stop test deps build build-asan unit fuzz integration \
        integration-asan bench clean

# libFuzzer targets, one per fuzz/fuzz_<name>.c, run FUZZ_SECONDS each
FUZZ_SECONDS ?= 15
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS := $(patsubst src/core/%.c,build/fuzz/core/%.o,$(CORE_SRCS))
FUZZ_CFLAGS := -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -I/usr/include/postgresql -Isrc/core
export FUZZ_SECONDS

run: build
	@tools/run.sh start

stop:
	@tools/run.sh stop

test: build build-asan
	@echo "layering: src/core/ includes no nginx header"
	@! grep -nE '#[[:space:]]*include[[:space:]]*[<"](ngx_|nginx)' \
	    src/core/*.[ch] | grep -v '[<"]ngx_payout_'
	@echo "style: no line longer than 80 columns"
	@! LC_ALL=C.UTF-8 grep -nE '^.{81,}' src/*.[ch] src/core/*.[ch] \
	    ngx_http_payout_module.c tools/payoutctl/*.[ch] fuzz/*.[ch]
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) integration-asan

deps:
	@tools/deps.sh

build: deps build/plain/ngx_http_payout_module.so build/payoutctl

build-asan: deps build/asan/ngx_http_payout_module.so

build/plain/ngx_http_payout_module.so: $(MODULE_SRCS)
	tools/build.sh plain

build/asan/ngx_http_payout_module.so: $(MODULE_SRCS)
	tools/build.sh asan

PAYOUTCTL_SRCS := $(wildcard tools/payoutctl/*.c)

build/payoutctl: $(PAYOUTCTL_SRCS) tools/payoutctl/payoutctl.h \
		$(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	cc $(CFLAGS_HOST) -O2 -Itools/payoutctl $(PAYOUTCTL_SRCS) \
	    src/core/ngx_payout_apikey.c src/core/ngx_payout_hex.c \
	    -lpq -lcrypto -ljansson -o $@

build/unit_tests: $(wildcard t/unit/*.c) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	cc $(CFLAGS_HOST) -fsanitize=address,undefined \
	    -fno-omit-frame-pointer $(wildcard t/unit/*.c) $(CORE_SRCS) \
	    -lcmocka -lcrypto -ljansson -lcurl -o $@

unit: deps build/unit_tests
	build/unit_tests

fuzz: deps $(FUZZ_OBJS) $(FUZZ_BINS)
	@tools/fuzz.sh $(FUZZ_NAMES)

build/fuzz/core/%.o: src/core/%.c $(CORE_HDRS)
	@mkdir -p build/fuzz/core
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) \
	    -lcurl -lcrypto -ljansson -o $@

integration: build
	$(PYTEST) -q t/integration

integration-asan: build build-asan
	PAYOUT_TEST_ASAN=1 $(PYTEST) -q t/integration

bench: build
	bench/run.sh

clean:
	rm -rf build

# Not part of `make test`: several minutes of load under faults, then
# invariant checks (docs/reliability.md).  SOAK_SECONDS sets the load.
SOAK_SECONDS ?= 180
.PHONY: soak
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) /usr/bin/python3 t/soak/soak.py
