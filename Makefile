# ferry's developer commands. Each target is a few lines and can be run by
# hand; `make test` is what .ci/run runs.

GO       ?= go
# How long each fuzz target runs under `make fuzz`.
FUZZTIME ?= 30s
# Generous: the end-to-end tests build ferry, which compiles rclone.
TIMEOUT  ?= 30m

.PHONY: all build demo test fmt-check vet quick race fuzz bench soak clean

all: build

build:
	$(GO) build -o bin/ferry ./cmd/ferry

# Build ferry, sync a sample vault with a second folder in a temporary
# directory, edit both sides and sync again, showing what happened.
demo: build
	bash scripts/demo.sh bin/ferry

# Everything: formatting, vet, and every test (no test cache: the
# end-to-end tests drive a freshly built binary), on real S3 and WebDAV
# servers too.
test: fmt-check vet servers
	$(GO) test -count=1 -timeout $(TIMEOUT) ./...

# Install the servers the tests start on 127.0.0.1 (versitygw, Apache
# httpd, rclone serve), once per machine: see scripts/testserver/lib.sh.
.PHONY: servers
servers:
	GO=$(GO) bash scripts/testserver/install.sh

fmt-check:
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet ./...

# The edit loop: no end-to-end tests, no servers.
quick:
	$(GO) test -short ./...

race:
	$(GO) test -race -short -timeout $(TIMEOUT) ./...

# Every fuzz target of the module (found by grep), FUZZTIME each.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# The benchmark of issue 6 (docs/performance.md): ferry side by side with
# rclone bisync, Unison, rsync and a plain walk on generated vaults and the
# Go source tree. Installs the tools it compares with, writes its table to
# docs/performance.md; about 20 minutes. The Go benchmarks alone:
# go test -run '^$$' -bench . ./...
bench:
	GO=$(GO) bash scripts/bench/bench.sh

# The 1,000,000-file no-change case and the 10k/100k/1M curve.
.PHONY: bench-large
bench-large:
	GO=$(GO) bash scripts/bench/bench.sh large

# The remote scenarios of issue 6 against the test suite's S3 and WebDAV
# servers on 127.0.0.1 (installed as for `make test`): no-change runs of the
# 10k vault (BENCH_REMOTE_SIZES=10000,100000 for 100k too, about an hour
# more), and a renamed folder of 1,000 attachments, every request counted.
# About 11 minutes, most of it uploading the vault to each server once.
.PHONY: bench-remote
bench-remote:
	GO=$(GO) bash scripts/bench/bench.sh remote

# Long randomized crash and fault runs, outside `make test`: the real binary
# killed at random points of runs over random trees (SOAK_SEEDS seeds,
# SOAK_KILLS kill points each; a failure prints the FERRY_SOAK_SEED that
# reproduces it), then the engine's fault matrix under the race detector.
SOAK_SEEDS ?= 4
SOAK_KILLS ?= 40
SOAKTIME   ?= 3h
soak:
	FERRY_SOAK=1 FERRY_SOAK_SEEDS=$(SOAK_SEEDS) FERRY_SOAK_KILLS=$(SOAK_KILLS) \
		$(GO) test -count=1 -timeout $(SOAKTIME) -run '^TestCrash' ./cmd/ferry
	$(GO) test -count=1 -race -timeout $(SOAKTIME) -run '^(TestFault|TestInterrupt|TestUnreadable|TestListing)' ./bisync ./backends/faulty

# Man pages for ferry and each of its commands, from the cobra commands
# themselves (ferry man DIR).
.PHONY: man
man: build
	bin/ferry man bin/man

clean:
	rm -rf bin
