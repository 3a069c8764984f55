# dynalert make targets. `make demo` and `make test` set up everything they need.
CARGO   ?= cargo
RELEASE := target/release
DYNALERT := $(RELEASE)/dynalert

.PHONY: all demo test lint bench clean deps build schema

all: build

deps:
	@scripts/install-deps.sh

build:
	$(CARGO) build --release --workspace --bins

demo: deps build
	@scripts/demo.sh

test: deps build
	$(CARGO) test --workspace
	$(DYNALERT) schema --dir docs/schema --check
	@scripts/check-examples.sh
	$(DYNALERT) rules coverage examples/conf.d
	$(DYNALERT) rules regex examples/conf.d --check
	scripts/test-rules.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: build
	$(CARGO) bench -p dynalert-config --bench load

schema: build
	$(DYNALERT) schema --dir docs/schema

clean:
	$(CARGO) clean
	rm -rf target/lab
