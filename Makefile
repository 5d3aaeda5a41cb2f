# harvester: `make run` and `make test` do everything on a fresh Debian box.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps runtime build prepare plugins web run test test-asan bench clean

all: plugins web

deps:
	@scripts/deps.sh

runtime: deps
	@scripts/runtime.sh $(BUILD)/runtime

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@python3.11 -m compileall -q --invalidation-mode checked-hash runtime/sdk >/dev/null

# AOT-compiles the runtime (cached by content hash: ~1 min the first time).
prepare: build runtime
	@$(BUILD)/harvester prepare

# Every plugin directory plugins/<name>/ -> plugins/<name>.wasm
plugins: prepare
	@mkdir -p plugins
	@for d in plugins/*/; do \
	  [ -f "$$d/plugin.toml" ] || continue; \
	  $(BUILD)/harvester build "$$d" -o "plugins/$$(basename $$d).wasm" >/dev/null || exit 1; \
	done

# Front-end assets from npm (uPlot), served locally under /static.
web: web/node_modules/.package-lock.json
web/node_modules/.package-lock.json: web/package.json
	@cd web && npm install --no-audit --no-fund --silent
	@mkdir -p web/static
	@cp web/node_modules/uplot/dist/uPlot.iife.min.js web/node_modules/uplot/dist/uPlot.min.css web/static/

run: plugins web
	@$(BUILD)/harvester run --config config/host.toml

$(ASAN_BUILD)/CMakeCache.txt:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHV_SANITIZE=ON \
	  -DHV_RUNTIME_DIR=$(abspath $(BUILD))/runtime >/dev/null

test-asan: prepare web $(ASAN_BUILD)/CMakeCache.txt
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure

test: prepare web
	@$(MAKE) --no-print-directory test-asan
	@cd $(BUILD) && ctest --output-on-failure

bench: prepare
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
