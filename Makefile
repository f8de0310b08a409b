# The single entry point: CI and humans call the same targets.
SHELL := /bin/bash
comma := ,
# The Lambda runtime's Python (template.yaml: Runtime; layers/presign/Makefile and
# functions/function.mk check the bytecode is compiled by it). The venvs are made with it too.
LAMBDA_PYTHON := 3.13
IS_LAMBDA_PYTHON := import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma) ,$(LAMBDA_PYTHON))))
# Its interpreter: the first of these that runs and is $(LAMBDA_PYTHON). Not `command -v` alone:
# pyenv puts a shim on PATH for every version it has, and a shim for a version that is not
# selected exits 127. PYTHON=/path/to/python3.x on the command line takes precedence.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python$(LAMBDA_PYTHON) $$(pyenv root 2>/dev/null)/versions/$(LAMBDA_PYTHON).*/bin/python$(LAMBDA_PYTHON) python3; do \
	"$$p" -c '$(IS_LAMBDA_PYTHON)' 2>/dev/null && { "$$p" -c 'import sys; print(sys.executable)'; break; }; done)
endif
# Where it is missing, stop at once and say how to get it (Debian 12 has no python3.13 package).
CHECK_PYTHON = test -n "$(PYTHON)" && "$(PYTHON)" -c '$(IS_LAMBDA_PYTHON)' 2>/dev/null || { echo "presign needs \
	Python $(LAMBDA_PYTHON) (Lambda's python$(LAMBDA_PYTHON) runtime)$(if $(PYTHON),; $(PYTHON) is not it): \
	pyenv install $(LAMBDA_PYTHON), or PYTHON=/path/to/python$(LAMBDA_PYTHON) make ..." >&2; exit 1; }
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
# Each tool venv's stamp names the tool's version and the Python it runs on: a change of either
# makes the venv anew.
SAM_STAMP := $(SAM_VENV)/.sam-$(SAM_VERSION)-python$(LAMBDA_PYTHON)
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.checkov-$(CHECKOV_VERSION)-python$(LAMBDA_PYTHON)
ENV ?= dev
export PYTHONPATH := $(CURDIR)/layers/presign:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps venv lock dev doctor test unit lint typecheck openapi openapi-check template build deploy bench token cleanup webhooks clean examples clients clients-python client-codes clients-js clients-js-types test-clients-js

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# What make cannot build itself: the runtime's Python (CHECK_PYTHON says how to get it) and these
# Debian packages, each as `command:package`. chromium: the browser tests (Playwright drives it and
# downloads no browser of its own); node + npm: the examples' packages (make examples) and the
# Node client recipe; curl + jq: docs/clients.md's bash recipe. Root with apt-get installs what is
# missing; anyone else is told the one command to run. Nothing missing: no apt-get at all.
SYSTEM_PACKAGES := chromium:chromium node:nodejs npm:npm curl:curl jq:jq
APT_GET ?= apt-get

deps: ## install the Debian packages make test and make dev need (as root; otherwise say which)
	@$(CHECK_PYTHON)
	@missing=; for dep in $(SYSTEM_PACKAGES); do \
		command -v "$${dep%%:*}" >/dev/null || case " $$missing " in *" $${dep#*:} "*) ;; *) missing="$${missing:+$$missing }$${dep#*:}";; esac; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v $(APT_GET) >/dev/null; then \
		echo "make deps: missing $$missing; install them with: apt-get update && apt-get install -y $$missing (as root)" >&2; exit 1; \
	fi; \
	echo "make deps: apt-get install $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $$missing

# Two pip runs: pip checks hashes for a whole install once any requirement has one (a constraints
# file with hashes counts too), and the dev tools are pinned without. First the layer's lock,
# hash-checked, exactly as the layer installs it; then the dev tools, constrained to the lock's
# versions through a copy of it without the hashes ($(LOCK_PINS)).
LOCK_PINS ?= $(VENV)/lock-pins.txt
$(BIN)/.installed: requirements-dev.txt layers/presign/requirements.lock layers/presign/requirements.txt
	@$(CHECK_PYTHON)
	@# A venv of another Python (the previous runtime's) is made anew, not patched.
	@test ! -e $(BIN)/python || $(BIN)/python -c '$(IS_LAMBDA_PYTHON)' 2>/dev/null || rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r layers/presign/requirements.lock
	$(MAKE) --no-print-directory lock-pins LOCK_PINS=$(LOCK_PINS)
	$(BIN)/pip install --quiet -c $(LOCK_PINS) -r requirements-dev.txt
	@touch $@

# The lock's pins without their hashes: a constraint for the dev tools' install.
.PHONY: lock-pins
lock-pins:
	@mkdir -p $(dir $(LOCK_PINS))
	sed -e '/^ *--hash=/d' -e 's/ *\\$$//' layers/presign/requirements.lock > $(LOCK_PINS)

# SAM CLI pins its own boto3 and friends, so it gets a virtualenv of its own.
$(SAM_STAMP):
	@$(CHECK_PYTHON)
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)
	@touch $@

$(SAM): $(SAM_STAMP)
	@touch -c $@

# checkov too: it pins boto3 and an old packaging, both of which the dev venv has newer.
$(CHECKOV_STAMP):
	@$(CHECK_PYTHON)
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

$(CHECKOV): $(CHECKOV_STAMP)
	@touch -c $@

venv: $(BIN)/.installed ## create .venv with every dev dependency

lock: venv ## re-resolve layers/presign/requirements.lock from its requirements.txt (UPGRADE=1: newest; UPGRADE="name ...": those)
	$(MAKE) -C layers/presign lock UV=$(CURDIR)/$(BIN)/uv $(if $(UPGRADE),UPGRADE="$(UPGRADE)")

# The browser examples' npm packages (Uppy, Swagger UI, esbuild), exactly as the lock pins them:
# `npm ci` installs from examples/package-lock.json only (integrity-checked, no resolution) and
# runs no install scripts; esbuild then bundles Uppy's packages for examples/uppy (their ESM
# imports CommonJS packages, which a browser cannot load as they are). npm writes
# node_modules/.package-lock.json on every install: the stamp of this one.
NPM ?= npm
EXAMPLES_INSTALLED := examples/node_modules/.package-lock.json
$(EXAMPLES_INSTALLED): examples/package.json examples/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "make examples: npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
	cd examples && $(NPM) ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

examples/uppy/vendor/aws-s3.js: $(EXAMPLES_INSTALLED)
	rm -rf examples/uppy/vendor
	cd examples && $(NPM) run --silent build

# The demo app (examples/web) loads the TypeScript client's browser bundle from its own origin: the
# static server serves examples/ only, so the bundle is copied there (vendor/, like Uppy's).
examples/web/vendor/presign-client.js: clients/js/dist/presign-client.min.js
	mkdir -p examples/web/vendor
	cp $< $@

# examples/react: useUpload() with React from examples' lock (the hook's peer), the client from clients/js/dist.
examples/react/vendor/app.js: $(EXAMPLES_INSTALLED) clients/js/dist/presign-client.min.js examples/react/app.js examples/react/build.mjs
	cd examples && node react/build.mjs

examples: $(EXAMPLES_INSTALLED) examples/uppy/vendor/aws-s3.js clients-js examples/web/vendor/presign-client.js examples/react/vendor/app.js ## install examples/' npm packages from the lock, bundle Uppy and the React page, copy the client's bundle

# The first-party TypeScript client (clients/js, @presign/client): its dev tools (TypeScript 5,
# openapi-typescript, esbuild) from clients/js/package-lock.json only, no install scripts. It has no
# runtime dependency; React (the ./react hook's peer) is never installed there.
CLIENTS_JS_INSTALLED := clients/js/node_modules/.package-lock.json
$(CLIENTS_JS_INSTALLED): clients/js/package.json clients/js/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "make clients: npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
	cd clients/js && $(NPM) ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

clients/js/dist/presign-client.min.js: clients-js

clients-js: $(CLIENTS_JS_INSTALLED) ## build clients/js: ES modules + .d.ts (tsc), the browser bundle, an npm pack tarball in clients/js/dist
	cd clients/js && $(NPM) run --silent build
	cd clients/js && $(NPM) pack --silent --pack-destination dist >/dev/null

clients-js-types: $(CLIENTS_JS_INSTALLED) ## regenerate clients/js's types from openapi.json (after `make openapi`; commit them)
	cd clients/js && $(NPM) run --silent generate

test-clients-js: clients-js ## the TypeScript client's unit tests (node:test) and the check that its generated types are current
	cd clients/js && node scripts/generate.mjs --check
	cd clients/js && node --test test/


# The Python client (clients/python), installed as its users install it: `pip install
# ./clients/python` into a virtualenv of its own, on the oldest Python it supports (3.11), so the
# tests run the `presign` command a user gets, not the source tree. Rebuilt when a source changes.
CLIENT_VENV := .venv-client
CLIENT_PYTHON ?= $(shell command -v python3.11)
CLIENT_SOURCES := clients/python/pyproject.toml clients/python/README.md \
	$(shell find clients/python/src -name '*.py' -o -name py.typed 2>/dev/null)
$(CLIENT_VENV)/.installed: $(CLIENT_SOURCES)
	@test -n "$(CLIENT_PYTHON)" || { echo "make clients-python: python3.11 is needed (pyenv's or the machine's)" >&2; exit 1; }
	@$(CLIENT_PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the client is tested on its oldest Python, 3.11; found " + sys.version'
	rm -rf $(CLIENT_VENV)
	$(CLIENT_PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/pip install --quiet ./clients/python
	@touch $@

client-codes: venv ## regenerate the Python client's list of the contract's error codes
	$(BIN)/python -m local.client_codes

clients-python: venv $(CLIENT_VENV)/.installed ## the Python client: codes current, ruff, mypy --strict, a wheel in clients/python/dist, `presign` in .venv-client
	$(BIN)/python -m local.client_codes --check
	$(BIN)/ruff check clients/python
	$(BIN)/ruff format --check clients/python
	cd clients/python && $(CURDIR)/$(BIN)/mypy
	$(CLIENT_VENV)/bin/pip wheel --quiet --no-deps --wheel-dir clients/python/dist ./clients/python
	$(CLIENT_VENV)/bin/presign --version

clients: clients-js clients-python ## build and check the first-party clients (clients/js, clients/python; see docs/clients.md)

dev: deps venv examples ## run the service locally: SeaweedFS + moto_server + API Gateway emulator (AUTH=oidc for RS256/JWKS, PREFIX='tenants/{tenant}/users/{sub}/', STORAGE_PROXY=1, WEBHOOK_URL=<url>: one more webhook endpoint)
	$(BIN)/python -m local.dev --auth $(or $(AUTH),hs256) $(if $(PREFIX),--prefix '$(PREFIX)') $(if $(STORAGE_PROXY),--storage-proxy) \
		$(if $(WEBHOOK_URL),--webhook-url '$(WEBHOOK_URL)')

doctor: venv ## check the running `make dev` stack's storage end to end (any other: python -m presign.doctor --config FILE)
	$(BIN)/python -m local.doctor

cleanup: venv ## run the cleanup function against the running `make dev` stack (DRY_RUN=1: count only)
	@$(BIN)/python -m local.invoke CleanupFunction --payload '$(if $(DRY_RUN),{"dry_run": true},{})' \
		$(if $(STATE),--state-file $(STATE))

# Its own make dev on free ports (another one may run); the figures go to docs/performance.md by hand.
.PHONY: soak
soak: venv ## make dev under mixed load and injected faults, then invariants from the storage and tables (PROFILE=short: <2 min, as make test runs it)
	$(BIN)/python -m local.soak --profile $(or $(PROFILE),default)
webhooks: venv ## the webhooks' operator command against `make dev`: ARGS='log' | 'replay --dlq' | 'replay EVT --endpoint dev' | 'test-event dev' | 'enable dev'
	@$(BIN)/python -m local.webhooks $(or $(ARGS),log)

token: venv ## mint a dev token: make token SUB=alice (TENANT=acme, CLAIMS='org=x team=y': more claims)
	@$(BIN)/python -m local.token --sub '$(or $(SUB),alice)' $(if $(TENANT),--claim 'tenant=$(TENANT)') \
		$(foreach claim,$(CLAIMS),--claim '$(claim)')

test: deps venv $(SAM) examples clients lint openapi-check template test-clients-js ## every check and every test, as CI runs them
	$(BIN)/pytest -q

unit: venv $(SAM) ## the fast tests only (the template tests run SAM's translator from $(SAM_VENV))
	$(BIN)/pytest -q tests/unit tests/infra

# checkov: --skip-download keeps it offline (it would fetch policies and print a traceback
# without a network); --framework cloudformation reads the SAM template, nothing else. Every check
# the template opts out of says why in the resource's Metadata.checkov.skip.
lint: venv $(CHECKOV) ## ruff, mypy, the layer's import contracts (.importlinter), module sizes, checkov (template.yaml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m local.sizes
	$(CHECKOV) -f template.yaml --skip-download --framework cloudformation --compact --quiet

openapi: venv ## regenerate the committed OpenAPI document
	$(BIN)/python -m local.openapi

openapi-check: venv
	$(BIN)/python -m local.openapi --check

# `sam validate --lint` only runs cfn-lint; plain `sam validate` runs SAM's own transform too.
# The build makefiles compile bytecode with PYTHON, which must be the runtime's: the venv's.
SAM_BUILD = PYTHON=$(CURDIR)/$(BIN)/python $(SAM) build

template: venv $(SAM) ## cfn-lint, sam validate (with and without --lint) and sam build
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --region us-east-1
	$(SAM) validate --lint --region us-east-1
	$(SAM_BUILD)

build: venv $(SAM) ## sam build (ships compiled bytecode; see layers/presign/Makefile)
	$(SAM_BUILD)

deploy: build ## sam deploy to ENV (default dev; see samconfig.toml)
	$(SAM) deploy --config-env $(ENV)

# What the TypeScript client is measured against (@uppy/aws-s3, UploadThing's client), from a lock of
# its own: never in clients/js, whose lock holds the client's own tools only.
BENCH_JS_INSTALLED := benchmarks/js/node_modules/.package-lock.json
$(BENCH_JS_INSTALLED): benchmarks/js/package.json benchmarks/js/package-lock.json
	cd benchmarks/js && $(NPM) ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

# RUNTIMES=3.13,3.14: only the cold starts, on each of these Pythons side by side (each needs its
# interpreter, and the code must run on it; see bench_coldstart.py).
bench: venv $(SAM) clients $(BENCH_JS_INSTALLED) ## benchmarks, each figure as a ratio against a baseline of the same run
	$(BIN)/python -m benchmarks $(if $(RUNTIMES),bench_coldstart --runtimes $(RUNTIMES))

clean:
	rm -rf .aws-sam .local .hypothesis .mypy_cache .ruff_cache examples/node_modules examples/uppy/vendor \
		examples/web/vendor examples/react/vendor clients/js/node_modules clients/js/dist \
		benchmarks/js/node_modules $(CLIENT_VENV) clients/python/dist
