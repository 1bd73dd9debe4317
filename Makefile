# The commands people use: `make run` and `make test`, and the steps they are made of.
# Every tool is installed here, pinned, so that a fresh clone needs nothing done by hand.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
TOOLS := $(CURDIR)/.tools/bin
BUF := tools/buf/node_modules/.bin/buf
DEVDB_JAR := tools/devdb/target/jobwire-devdb.jar
TS_DIR := clients/typescript
GO_DIR := clients/go

PIP_VERSION := 26.3
PROTOC_GEN_GO_VERSION := v1.36.11
PROTOC_GEN_GO_GRPC_VERSION := v1.6.1
PYTHON_GEN := clients/python/src/jobwire/v1
GENERATED := $(PYTHON_GEN) $(GO_DIR)/gen $(TS_DIR)/src/gen
PROTO_FILES := $(wildcard proto/jobwire/v1/*.proto)

export PATH := $(CURDIR)/$(VENV)/bin:$(TOOLS):$(PATH)
export npm_config_omit_lockfile_registry_resolved := true

.PHONY: help install run test proto proto-check lint breaking baseline \
        test-python test-go test-typescript system-packages

help:
	@echo "make run     start the development database and the server on 127.0.0.1:50051"
	@echo "make test    install, check generated code, lint and run every test"
	@echo "make install | proto | lint | breaking | test-python | test-go | test-typescript"

## Installation ---------------------------------------------------------------------------

install: $(VENV)/.installed $(BUF) $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc \
         $(TS_DIR)/node_modules/.installed $(GO_DIR)/.deps-downloaded $(DEVDB_JAR) \
         system-packages

$(VENV)/.installed: pyproject.toml server/pyproject.toml handlers/pyproject.toml \
                    clients/python/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet -e clients/python -e server -e 'handlers[test]' --group dev
	touch $@

$(BUF): tools/buf/package.json
	cd tools/buf && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) go install \
	  google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(TS_DIR)/node_modules/.installed: $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GO_DIR)/.deps-downloaded: $(GO_DIR)/go.mod $(GO_DIR)/go.sum
	cd $(GO_DIR) && go mod download
	touch $@

$(DEVDB_JAR): tools/devdb/pom.xml $(shell find tools/devdb/src -type f 2>/dev/null)
	mvn --batch-mode --quiet -Dstyle.color=never -f tools/devdb/pom.xml package -DskipTests

system-packages:
	@tools/install-system-packages.sh

## Code generation ------------------------------------------------------------------------

proto: $(VENV)/.installed $(BUF) $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc \
       $(TS_DIR)/node_modules/.installed
	rm -rf $(PYTHON_GEN) && mkdir -p $(PYTHON_GEN)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=clients/python/src \
	  --mypy_out=clients/python/src $(PROTO_FILES)
	$(PY) -m grpc_tools.protoc -Iproto --grpc_python_out=clients/python/src \
	  --mypy_grpc_out=clients/python/src proto/jobwire/v1/job_service.proto
	$(BUF) generate

# Regenerates everything and fails when the result differs from what is committed.
proto-check: proto
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
	  git status --short -- $(GENERATED); \
	  echo "generated code is stale: run 'make proto' and commit the result" >&2; exit 1; \
	fi

## Checks ---------------------------------------------------------------------------------

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(BUF) lint
	cd $(GO_DIR) && go vet ./...
	cd $(TS_DIR) && npm run --silent typecheck

# Fails when the contract breaks wire or JSON compatibility with the committed baseline.
breaking: $(BUF)
	$(BUF) breaking proto --against tools/buf/baseline.binpb

test-python: install
	$(VENV)/bin/pytest

# The Go and TypeScript tests talk to a live server that the harness starts for them.
test-go: install
	$(PY) tools/with_server.py -- bash -c 'cd $(GO_DIR) && go test -count=1 ./...'

test-typescript: install
	$(PY) tools/with_server.py -- bash -c 'cd $(TS_DIR) && npm test'

test: install proto-check lint breaking test-python test-go test-typescript

## Running --------------------------------------------------------------------------------

# Starts the development database under .devdb/ unless MONGODB_URI names a database.
run: install
	$(VENV)/bin/jobwire serve --dev-database .devdb

# Records the current contract as the baseline `make breaking` compares against.
# Run it after an intended, compatible change to the contract, and commit the result.
baseline: $(BUF)
	$(BUF) build proto -o tools/buf/baseline.binpb
