# ngx_http_payout_module.  `make run` starts a working gateway on
# 127.0.0.1:$(PORT); `make test` runs every test suite.

PORT    ?= 8080
PG_PORT ?= 54329
PYTEST  := /usr/bin/python3 -m pytest
export PORT PG_PORT

CORE_SRCS := $(wildcard src/core/*.c src/connectors/*.c)
CORE_HDRS := $(wildcard src/core/*.h src/connectors/*.h)
MODULE_SRCS := config ngx_http_payout_module.c $(wildcard src/*.c src/*.h) \
               $(CORE_SRCS) $(CORE_HDRS) $(wildcard src/connectors/*.[ch]) \
               $(wildcard html/payout/*)
CFLAGS_HOST := -g -O1 -Wall -Wextra -Werror -I/usr/include/postgresql \
               -Isrc/core -Isrc/connectors

.PHONY: run stop test style deps build build-asan unit fuzz integration \
        integration-asan browser bench clean openapi-lint api-reference

# libFuzzer targets, one per fuzz/fuzz_<name>.c, run FUZZ_SECONDS each
FUZZ_SECONDS ?= 15
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS := $(patsubst src/%.c,build/fuzz/%.o,$(CORE_SRCS))
FUZZ_CFLAGS := -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -I/usr/include/postgresql -Isrc/core -Isrc/connectors
export FUZZ_SECONDS

run: build
	@tools/run.sh start

stop:
	@tools/run.sh stop

test: build build-asan style openapi-lint
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) integration-asan
	$(MAKE) browser

# line length, tabs, trailing blanks, no nginx header in src/core/ and
# src/connectors/ (tools/check_style.sh)
style:
	@tools/check_style.sh

deps:
	@tools/deps.sh

# docs/openapi.yaml: linted by @redocly/cli (pinned in package.json) with
# redocly.yaml's rules; t/integration/test_openapi.py checks it against a
# live server.  `make api-reference` renders docs/api-reference.html from
# it (commit the result).  Debian's Node 18 needs the WebCrypto flag for
# build-docs; later Nodes ignore it.
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
           NODE_OPTIONS=--experimental-global-webcrypto \
           node_modules/.bin/redocly

openapi-lint: deps
	@$(REDOCLY) lint --format=stylish docs/openapi.yaml

api-reference: deps
	$(REDOCLY) build-docs docs/openapi.yaml -o docs/api-reference.html \
	    --title "Payout gateway API reference"

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
	    src/core/ngx_payout_apikey.c src/core/ngx_payout_crypto.c \
	    src/core/ngx_payout_hex.c \
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

build/fuzz/%.o: src/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) \
	    -lcurl -lcrypto -ljansson -o $@

integration: build
	$(PYTEST) -q t/integration

integration-asan: build build-asan
	PAYOUT_TEST_ASAN=1 $(PYTEST) -q t/integration

# the payout-link page in headless Chromium (t/browser); screenshots go to
# build/browser/ (PAYOUT_SCREENSHOTS=docs/img to refresh the docs' copies)
browser: build
	$(PYTEST) -q t/browser

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

# The Docker image (docker/), built with podman and run end to end against
# a throwaway PostgreSQL: tools/docker-test.sh.  Runs as root.
.PHONY: docker-test
docker-test:
	tools/docker-test.sh
