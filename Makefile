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

.PHONY: run stop test deps build build-asan unit integration \
        integration-asan bench clean

run: build
	@tools/run.sh start

stop:
	@tools/run.sh stop

test: build build-asan
	$(MAKE) unit
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

build/payoutctl: tools/payoutctl.c $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	cc $(CFLAGS_HOST) -O2 tools/payoutctl.c src/core/ngx_payout_apikey.c \
	    src/core/ngx_payout_hex.c -lpq -lcrypto -ljansson -o $@

build/unit_tests: $(wildcard t/unit/*.c) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	cc $(CFLAGS_HOST) -fsanitize=address,undefined \
	    -fno-omit-frame-pointer $(wildcard t/unit/*.c) $(CORE_SRCS) \
	    -lcmocka -lcrypto -ljansson -o $@

unit: deps build/unit_tests
	build/unit_tests

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
