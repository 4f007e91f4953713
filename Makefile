# The two commands a new user needs:  make run  and  make test.
GO       ?= go
BIN      := bin
PLUGINS  := $(BIN)/plugins
FUNCTIONS := $(BIN)/functions
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
CONFIG   ?= gateway.hcl
DEMO_ADDR ?= 127.0.0.1:9001

# Go plugin sources: every directory under examples/plugins and plugins that has a main package.
PLUGIN_DIRS := $(sort $(dir $(wildcard examples/plugins/*/main.go plugins/*/main.go)))
# Go function backends (docs/functions.md): every directory under examples/functions.
FUNCTION_DIRS := $(sort $(dir $(wildcard examples/functions/*/main.go)))

.PHONY: all build gateway demo-upstream plugins functions run chat validate test test-short bench vet fmt clean

all: build

build: gateway demo-upstream plugins functions

gateway:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/gateway ./cmd/gateway

demo-upstream:
	$(GO) build -trimpath -o $(BIN)/demo-upstream ./cmd/demo-upstream

# Plugins are wasip1 reactors built with stock Go (see docs/plugins-go.md).
plugins:
	@mkdir -p $(PLUGINS)
	@for d in $(PLUGIN_DIRS); do \
		name=$$(basename $$d); \
		echo "plugin $$name -> $(PLUGINS)/$$name.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags=-s -o $(PLUGINS)/$$name.wasm ./$$d || exit 1; \
	done

# Functions are wasip1 reactors too, built with sdk/go/function.
functions:
	@mkdir -p $(FUNCTIONS)
	@for d in $(FUNCTION_DIRS); do \
		name=$$(basename $$d); \
		echo "function $$name -> $(FUNCTIONS)/$$name.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags=-s -o $(FUNCTIONS)/$$name.wasm ./$$d || exit 1; \
	done

# run: the demo upstream in the background, the gateway in the foreground on $(CONFIG).
# Ctrl-C stops both.
run: build
	@./$(BIN)/demo-upstream -addr $(DEMO_ADDR) & demo=$$!; \
	trap 'kill $$demo 2>/dev/null' EXIT INT TERM; \
	./$(BIN)/gateway run --config $(CONFIG)

# chat: the WebSocket chat example (examples/chat/README.md) on :8080; open
# http://localhost:8080/chat in two tabs. Ctrl-C stops it.
chat: gateway functions
	./$(BIN)/gateway run --config examples/chat/chat.hcl

validate: gateway
	./$(BIN)/gateway validate --config $(CONFIG)

# test: every test, with the race detector. Tests build the gateway binary and
# the Wasm modules they need from source themselves.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -tags guestprof -run TestGuestProfile ./host/wasm/

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags guestprof ./host/wasm/ ./sdk/go/wasmtest/
	@test -z "$$(gofmt -l . | grep -v '^testdata/' )" || (echo "gofmt needed on:"; gofmt -l .; exit 1)

# bench: Go micro-benchmarks of the hot paths, then the load benchmark on loopback
# (backend direct vs a bare httputil.ReverseProxy vs the gateway, same run), then
# the WebSocket ones: RSS and heap per idle connection, and message round trips
# through a function and an upstream two-way route.
BENCH_PKGS ?= ./host/... ./plugins/request-validator
BENCH_ARGS ?=
WS_IDLE_CONNS ?= 10000
WS_RTT_ARGS ?= --conns 32 --duration 10s
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(BENCH_PKGS)
	PLUGINS_DIR=$(CURDIR)/$(PLUGINS) FUNCTIONS_DIR=$(CURDIR)/$(FUNCTIONS) $(GO) run ./cmd/loadbench run --gateway $(BIN)/gateway \
		--target proxy=builtin:gateway.hcl:/plain \
		--target mock=builtin:gateway.hcl:/mock \
		--target proxy+accesslog=builtin:accesslog.hcl:/plain \
		--target plugins-1=builtin:pipeline.hcl:/one \
		--target plugins-3=builtin:pipeline.hcl:/three \
		--target traffic-plain=builtin:traffic.hcl:/plain \
		--target local-limited=builtin:traffic.hcl:/limited \
		--target cache-hit=builtin:traffic.hcl:/cached \
		--target fn=builtin:function.hcl:/hello \
		--target fn-soft=builtin:function.hcl:/hello-soft \
		--target fn-mock=builtin:function.hcl:/mock \
		--target auth-plain=builtin:auth.hcl:/plain \
		--target key-auth=builtin:auth.hcl:'/key?api_key=bench-key' \
		--target jwt-rs256=builtin:auth.hcl:"/jwt?access_token=$$(cat cmd/loadbench/testdata/auth.token)" \
		--target validation-plain=builtin:validation.hcl:/plain/7 \
		--target validated=builtin:validation.hcl:/validated/7 \
		--body validation-plain=builtin:order2k.json --body validated=builtin:order2k.json \
		--compare plugins-3/proxy --compare fn/fn-mock --compare key-auth/auth-plain \
		--compare jwt-rs256/auth-plain --compare validated/validation-plain \
		--idle 10000 $(BENCH_ARGS)
	FUNCTIONS_DIR=$(CURDIR)/$(FUNCTIONS) $(GO) run ./cmd/loadbench wsidle --gateway $(BIN)/gateway --conns $(WS_IDLE_CONNS)
	FUNCTIONS_DIR=$(CURDIR)/$(FUNCTIONS) $(GO) run ./cmd/loadbench wsrtt --gateway $(BIN)/gateway $(WS_RTT_ARGS)

fmt:
	gofmt -w .

clean:
	rm -rf $(BIN)

# Plugins in other languages (docs/plugin-languages.md): each target builds its
# examples/LANG/* plugins into bin/plugins/NAME-LANG.wasm, and skips with the
# install command when the toolchain is missing.
RUSTC ?= /usr/bin/rustc
ASC   := sdk/assemblyscript/node_modules/.bin/asc
.PHONY: plugins-langs plugins-rust plugins-c plugins-assemblyscript plugins-wat

plugins-langs: plugins-rust plugins-c plugins-assemblyscript plugins-wat

plugins-rust:
	@mkdir -p $(PLUGINS)
	@if ! test -d "$$($(RUSTC) --print sysroot 2>/dev/null)/lib/rustlib/wasm32-wasi"; then \
		echo "skip Rust plugins: no rustc with wasm32-wasi; apt-get install rustc libstd-rust-dev-wasm32"; exit 0; fi; \
	$(RUSTC) --edition 2018 --target wasm32-wasi --crate-type rlib --crate-name gateway_plugin -C opt-level=s -C panic=abort \
		sdk/rust/src/lib.rs -o $(PLUGINS)/libgateway_plugin.rlib || exit 1; \
	for d in examples/rust/*/; do name=$$(basename $$d); \
		echo "plugin $$name (rust) -> $(PLUGINS)/$$name-rust.wasm"; \
		$(RUSTC) --edition 2018 --target wasm32-wasi --crate-type cdylib -C opt-level=s -C strip=symbols -C panic=abort -C lto \
			--extern gateway_plugin=$(PLUGINS)/libgateway_plugin.rlib $$d/src/lib.rs -o $(PLUGINS)/$$name-rust.wasm || exit 1; \
	done; rm -f $(PLUGINS)/libgateway_plugin.rlib

plugins-c:
	@mkdir -p $(PLUGINS)
	@if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null; then \
		echo "skip C plugins: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32"; exit 0; fi; \
	for d in examples/c/*/; do name=$$(basename $$d); \
		echo "plugin $$name (c) -> $(PLUGINS)/$$name-c.wasm"; \
		clang --target=wasm32-wasi -mexec-model=reactor -Os -Wl,--strip-all -Isdk/c -o $(PLUGINS)/$$name-c.wasm $$d/src/plugin.c || exit 1; \
	done

plugins-assemblyscript:
	@mkdir -p $(PLUGINS)
	@if ! test -x $(ASC) || ! command -v node >/dev/null; then \
		echo "skip AssemblyScript plugins: (cd sdk/assemblyscript && npm ci)"; exit 0; fi; \
	for d in examples/assemblyscript/*/; do name=$$(basename $$d); \
		echo "plugin $$name (assemblyscript) -> $(PLUGINS)/$$name-assemblyscript.wasm"; \
		$(ASC) $$d/plugin.ts -o $(PLUGINS)/$$name-assemblyscript.wasm -O3 --use abort= --exportStart _initialize || exit 1; \
	done

plugins-wat:
	@mkdir -p $(PLUGINS)
	@if ! command -v wat2wasm >/dev/null; then echo "skip WAT plugins: apt-get install wabt"; exit 0; fi; \
	for d in examples/wat/*/; do name=$$(basename $$d); \
		echo "plugin $$name (wat) -> $(PLUGINS)/$$name-wat.wasm"; \
		wat2wasm $$d/plugin.wat -o $(PLUGINS)/$$name-wat.wasm || exit 1; \
	done
