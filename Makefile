# dynalert make targets. `make demo` and `make test` set up everything they need.
CARGO   ?= cargo
RELEASE := target/release
DYNALERT := $(RELEASE)/dynalert

# Property tests draw their cases from this seed under `make test`, so a run is
# reproducible; set PROPTEST_RNG_SEED to another number (or run `cargo test`) to explore.
export PROPTEST_RNG_SEED ?= 20261130

# A named test step that prints its wall time. Tests marked `#[ignore]` (real servers,
# stress) are left out of a plain `cargo test` and run here by name.
timed = @t0=$$(date +%s); echo "== $(1)"; $(2) && echo "== $(1): $$(( $$(date +%s) - t0 )) s"

.PHONY: all demo test lint bench clean deps build schema lab-up lab-down scenarios verify lab-e2e bench-scale

all: build

deps:
	@scripts/install-deps.sh

build:
	$(CARGO) build --release --workspace --bins

demo: deps build
	@scripts/demo.sh

test: deps build
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) machete
	$(call timed,unit and in-process tests,$(CARGO) test --workspace)
	$(call timed,real-server tests,$(CARGO) test -p dynalert-server --test status -- --ignored && $(CARGO) test -p threshold-exporter --test process -- --ignored)
	$(call timed,slow real-server tests,$(CARGO) test -p dynalert-alertmanager --test live -- --ignored && $(CARGO) test -p dynalert-cli --test migrate -- --ignored && $(CARGO) test -p dynalert-cli --test recipe_limits -- --ignored && $(CARGO) test -p dynalert-bench --test quick -- --ignored)
	$(call timed,stress tests,$(CARGO) test -p dynalert-server --test load -- --ignored && $(CARGO) test -p threshold-exporter --test churn --test hostile --test memory -- --ignored)
	$(DYNALERT) schema --dir docs/schema --check
	$(DYNALERT) man --dir docs/cli/man --check && $(DYNALERT) completions --dir docs/cli/completions --check
	scripts/test-install.sh
	@scripts/check-examples.sh
	$(DYNALERT) rules coverage examples/conf.d
	$(DYNALERT) rules regex examples/conf.d --check
	scripts/test-rules.sh
	scripts/test-deploy.sh
	scripts/test-status-browser.sh
	$(DYNALERT) bench rules --tenants 100,1000 --quick --out $(CURDIR)/target/bench-quick
	$(call timed,lab end-to-end tests,scripts/lab-e2e.sh)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) machete

bench: build
	$(CARGO) bench -p dynalert-config --bench load

# Per-tenant vs dynamic rules on a real Prometheus, up to 20,000 tenants (docs/performance.md).
bench-scale: deps build
	$(DYNALERT) bench rules --tenants 100,1000,5000,20000 --out $(CURDIR)/target/bench-scale
	$(DYNALERT) bench exporter --tenants 1000,10000 --out $(CURDIR)/target/bench-scale

schema: build
	$(DYNALERT) schema --dir docs/schema

# The local lab (docs/lab.md). LAB_DIR defaults to target/lab.
LAB_DIR ?= target/lab

lab-up: deps build
	$(DYNALERT) lab up --dir $(LAB_DIR)

lab-down:
	$(DYNALERT) lab down --dir $(LAB_DIR)

scenarios: build
	$(DYNALERT) scenario run all --dir $(LAB_DIR)

verify: build
	$(DYNALERT) verify-threshold db-a mysql_connections --lab.dir $(LAB_DIR)
	$(DYNALERT) verify-threshold db-b mysql_connections --lab.dir $(LAB_DIR)
	$(DYNALERT) inspect-tenant db-a --lab.dir $(LAB_DIR)

lab-e2e: deps build
	scripts/lab-e2e.sh

clean:
	$(CARGO) clean
	rm -rf target/lab

# Both binaries, their manual pages and bash/zsh/fish completions (docs/cli/) under PREFIX.
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install

install:
	$(CARGO) build --release -p dynalert -p threshold-exporter
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(RELEASE)/dynalert $(RELEASE)/threshold-exporter $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/cli/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/cli/completions/dynalert.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dynalert
	install -m 0644 docs/cli/completions/threshold-exporter.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/threshold-exporter
	install -m 0644 docs/cli/completions/_dynalert docs/cli/completions/_threshold-exporter $(DESTDIR)$(PREFIX)/share/zsh/site-functions/
	install -m 0644 docs/cli/completions/dynalert.fish docs/cli/completions/threshold-exporter.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/
