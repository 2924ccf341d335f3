# Chronicle's tasks. Every target runs across all modules of go.work, the
# one list of modules (scripts/ and internal/release read it too).
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
export GO
MODULES   := $(shell $(GO) work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')
# The oldest Go the modules support: go.work's go line, which every go.mod repeats.
GO_MIN    := $(shell sed -n 's/^go //p' go.work)
RACE      ?= -race
# The integration module runs about 5 minutes with -race on 2 cores; go
# test's default 10-minute limit would leave a loaded machine little room.
TESTTIMEOUT ?= 25m
TESTFLAGS ?=
FUZZTIME  ?= 10s
FUZZSMOKETIME ?= 10000x
BENCHFLAGS ?=
DEMOFLAGS ?=
DURATION  ?= 10m

.PHONY: help
help: ## Show this help.
	@echo "Chronicle — make targets (modules: $(MODULES))"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-24s %s\n", $$1, $$2}'

.PHONY: demo
demo: ## Run the pgx quick start end to end on DATABASE_URL, else 127.0.0.1:5432, else a throw-away initdb cluster (DEMOFLAGS=-initdb forces it, -sql shows the migration).
	@$(GO) run ./examples/demo $(DEMOFLAGS)

.PHONY: test
test: lint check-generated release-check fuzz-smoke ## Everything CI runs: lint, generated files, the release check, fuzz smoke, then every module's tests with -race.
	@set -e; for m in $(MODULES); do echo "== go test $$m"; (cd $$m && $(GO) test $(RACE) -count=1 -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...); done

.PHONY: soak
soak: ## Mixed load with connections killed for DURATION (default 10m), then every invariant checked (not in CI).
	@cd integration && $(GO) run ./cmd/soak -duration $(DURATION)

.PHONY: test-unit
test-unit: ## Every module's tests except integration/'s; no PostgreSQL needed (tests that need one skip without it).
	@set -e; for m in $(MODULES); do case $$m in ./integration*) continue;; esac; echo "== go test $$m"; (cd $$m && $(GO) test $(RACE) -count=1 -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...); done

.PHONY: test-integration
test-integration: ## integration/'s tests against DATABASE_URL, else 127.0.0.1:5432 (a role that may create databases); fails without a server.
	@RACE='$(RACE)' TESTFLAGS='$(TESTFLAGS)' scripts/test-integration.sh

.PHONY: test-integration-local
test-integration-local: ## Start PostgreSQL (docker compose with compose.yaml when Docker answers, else a throw-away initdb cluster), run test-integration on it, remove it.
	@RACE='$(RACE)' TESTFLAGS='$(TESTFLAGS)' scripts/test-integration-local.sh

.PHONY: release-check
release-check: ## Use the modules as a user would, outside the workspace, from a local module proxy at their version: go get, build, run on PostgreSQL, go run/go tool the tools.
	@scripts/release-check.sh

.PHONY: release
release: ## Prepare release VERSION=vX.Y.Z: bump every sibling require, tidy, run the checks, print the commit and tags to push (never tags or pushes).
	@scripts/release.sh '$(VERSION)'

.PHONY: test-go-min
test-go-min: ## Build and vet every module with the oldest Go they support (go.work's go line; GOTOOLCHAIN downloads it once).
	@set -e; for m in $(MODULES); do echo "== go$(GO_MIN) vet $$m"; (cd $$m && GOTOOLCHAIN=go$(GO_MIN) $(GO) vet ./...); done

GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT         := $(CURDIR)/bin/golangci-lint

.PHONY: lint
lint: $(GOLANGCI_LINT) ## gofmt check, go vet and golangci-lint (.golangci.yml) in every module.
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do echo "== go vet + golangci-lint $$m"; (cd $$m && $(GO) vet ./... && $(GOLANGCI_LINT) run --allow-parallel-runners ./...); done

$(GOLANGCI_LINT):
	@echo "== installing golangci-lint $(GOLANGCI_LINT_VERSION) into bin/"
	@GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: fmt
fmt: ## Format every module with gofmt.
	@gofmt -w $(MODULES)

.PHONY: tidy
tidy: ## go mod tidy in every module, outside the workspace, our modules from a local module proxy; also writes go.work's replaces.
	@scripts/tidy.sh

.PHONY: tidy-check
tidy-check: ## Fail when a go.mod or go.sum is not what make tidy writes (make release-check runs it).
	@scripts/tidy.sh -check

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 10s).
	@set -e; for m in $(MODULES); do (cd $$m && for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do \
		for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$dir/*_test.go); do \
			echo "== fuzz $$m/$$dir $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir; done; done); done

.PHONY: fuzz-smoke
fuzz-smoke: ## Run each fuzz target briefly (FUZZSMOKETIME, default 10000x: a count of inputs, not a duration, whose deadline races Go 1.26's fuzz coordinator, go.dev/issue/75804) on top of its committed seed corpus; make test runs it.
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSMOKETIME)

.PHONY: generate
generate: ## Regenerate generated code.
	@set -e; for m in $(MODULES); do echo "== go generate $$m"; (cd $$m && $(GO) generate ./...); done

.PHONY: check-generated
check-generated: ## Fail when a generated file is stale (eventmap-gen -check).
	@cd examples/eventmap-codegen/domain/user/userevents && $(GO) run github.com/chronicle-go/chronicle/tools/eventmap-gen -input ../events -output . -check

.PHONY: bench
bench: ## Run the benchmarks of BENCHMARKS.md against PostgreSQL (~8 min); extra flags in BENCHFLAGS, e.g. BENCHFLAGS='-json bench.json'.
	@cd integration && $(GO) run ./cmd/bench $(BENCHFLAGS)

.PHONY: bench-smoke
bench-smoke: ## A few seconds of every benchmark workload, to check the command still works (make test runs it as a Go test).
	@cd integration && $(GO) run ./cmd/bench -quick $(BENCHFLAGS)

.PHONY: bench-micro
bench-micro: ## The CPU micro-benchmarks (go test -bench -benchmem): validation, append parameters, row scanning, generated mapping; no database needed.
	@set -e; for m in $(MODULES); do case $$m in ./integration*) continue;; esac; (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...); done
	@cd integration && $(GO) test -run '^$$' -bench . -benchmem ./eventmapbench
