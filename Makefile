# Developer entry points. CI runs `make test`, `make sanitize` and `make fuzz` through .ci/run.
# `make build` is incremental: it configures only when build/release/build.ninja is missing.

SHELL := /bin/bash
BUILD_DIR := build/release
BIN := $(BUILD_DIR)/cablecast
# `make run` serves the demo chat (AnyCable's extended protocol: history, presence, whispers) with
# the in-process pub/sub; `make run PUBSUB=redis` keeps messages and sessions in the Redis at
# --redis-url (default redis://127.0.0.1:6379/0), so the page loses nothing across a restart.
# Pass e.g. ARGS="--port 9000" to override the address.
ARGS ?= --host 127.0.0.1 --port 8080
PUBSUB ?= memory
FORMAT_DIRS := src include tests bench examples fuzz

.PHONY: deps build run test bench format clean install

deps:
	bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake --preset release -DCABLECAST_WERROR=ON

build: deps $(BUILD_DIR)/build.ninja
	cmake --build --preset release

run: build
	exec $(BIN) serve $(ARGS) --pubsub $(PUBSUB)

# The tests need a Redis and a PostgreSQL: with-services.sh starts private ones on loopback,
# exports their URLs, runs ctest, and stops them whatever happens.
test: deps build
	bash scripts/with-services.sh ctest --preset release --output-on-failure -j2

# The binary, public headers, static libraries with CablecastConfig.cmake (find_package), and
# the systemd unit + example config under share/cablecast (docs/install.md). DESTDIR, if set in
# the environment, is put before PREFIX (staging for a package).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

bench: deps build
	bash scripts/bench.sh

format:
	find $(FORMAT_DIRS) -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0 2>/dev/null \
	  | xargs -0 --no-run-if-empty clang-format -i

clean:
	rm -rf build

# Robustness runs (docs/security.md). `make soak` runs the churn soak alone for SOAK_SECONDS
# (default 15 minutes; the CI run in `make test` lasts 2 and is paced to share the machine),
# with SOAK_WORKERS clients churning flat out. `make fuzz` builds the libFuzzer
# targets with clang and runs each for FUZZ_SECONDS (default 60). `make sanitize` runs the test
# suite against an AddressSanitizer + UndefinedBehaviorSanitizer build (build/asan).
# `make sanitize-build` and `make fuzz-build` only build those trees: .ci/run builds them while
# the release tests, which leave the cores mostly idle, are running.
SOAK_SECONDS ?= 900
SOAK_WORKERS ?= 40
FUZZ_SECONDS ?= 60

.PHONY: soak fuzz sanitize sanitize-build fuzz-build

soak: deps build
	CABLECAST_SOAK_SECONDS=$(SOAK_SECONDS) CABLECAST_SOAK_WORKERS=$(SOAK_WORKERS) \
	  CABLECAST_SOAK_PAUSE_MS=0 CABLECAST_BIN=$(abspath $(BIN)) \
	  CABLECAST_ROOT=$(CURDIR) NODE_PATH=$(CURDIR)/node_modules \
	  node --test --test-reporter=spec tests/soak/*.test.mjs

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

sanitize: deps
	bash scripts/sanitize.sh

sanitize-build: deps
	SANITIZE_BUILD_ONLY=1 bash scripts/sanitize.sh

fuzz-build: deps
	FUZZ_BUILD_ONLY=1 bash scripts/fuzz.sh
