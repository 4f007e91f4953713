# The two commands a new user needs:  make run  and  make test.
GO       ?= go
BIN      := bin
PLUGINS  := $(BIN)/plugins
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
CONFIG   ?= gateway.hcl
DEMO_ADDR ?= 127.0.0.1:9001

# Go plugin sources: every directory under examples/plugins and plugins that has a main package.
PLUGIN_DIRS := $(sort $(dir $(wildcard examples/plugins/*/main.go plugins/*/main.go)))

.PHONY: all build gateway demo-upstream plugins run validate test test-short bench vet fmt clean

all: build

build: gateway demo-upstream plugins

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

# run: the demo upstream in the background, the gateway in the foreground on $(CONFIG).
# Ctrl-C stops both.
run: build
	@./$(BIN)/demo-upstream -addr $(DEMO_ADDR) & demo=$$!; \
	trap 'kill $$demo 2>/dev/null' EXIT INT TERM; \
	./$(BIN)/gateway run --config $(CONFIG)

validate: gateway
	./$(BIN)/gateway validate --config $(CONFIG)

# test: every test, with the race detector. Tests build the gateway binary and
# the Wasm modules they need from source themselves.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | grep -v '^testdata/' )" || (echo "gofmt needed on:"; gofmt -l .; exit 1)

# bench: Go micro-benchmarks of the hot paths, then the load benchmark on loopback
# (backend direct vs a bare httputil.ReverseProxy vs the gateway, same run).
BENCH_PKGS ?= ./host/...
BENCH_ARGS ?=
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(BENCH_PKGS)
	PLUGINS_DIR=$(CURDIR)/$(PLUGINS) $(GO) run ./cmd/loadbench run --gateway $(BIN)/gateway \
		--target proxy=builtin:gateway.hcl:/plain \
		--target mock=builtin:gateway.hcl:/mock \
		--target proxy+accesslog=builtin:accesslog.hcl:/plain \
		--target plugins-1=builtin:pipeline.hcl:/one \
		--target plugins-3=builtin:pipeline.hcl:/three \
		--target key-auth=builtin:auth.hcl:'/key?api_key=bench-key' \
		--target jwt-rs256=builtin:auth.hcl:"/jwt?access_token=$$(cat cmd/loadbench/testdata/auth.token)" \
		--idle 10000 $(BENCH_ARGS)

fmt:
	gofmt -w .

clean:
	rm -rf $(BIN)
