# The single entry point: CI and humans call the same targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
ENV ?= dev
export PYTHONPATH := $(CURDIR)/layers/presign:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv lock dev doctor test unit lint typecheck openapi openapi-check template build deploy bench token cleanup clean examples clients clients-python client-codes clients-js clients-js-types test-clients-js

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Two pip runs: pip checks hashes for a whole install once any requirement has one (a constraints
# file with hashes counts too), and the dev tools are pinned without. First the layer's lock,
# hash-checked, exactly as the layer installs it; then the dev tools, constrained to the lock's
# versions through a copy of it without the hashes ($(LOCK_PINS)).
LOCK_PINS ?= $(VENV)/lock-pins.txt
$(BIN)/.installed: requirements-dev.txt layers/presign/requirements.lock layers/presign/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "presign targets the python3.11 Lambda runtime; found " + sys.version' 
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
$(SAM): 
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)

venv: $(BIN)/.installed ## create .venv with every dev dependency

lock: venv ## re-resolve layers/presign/requirements.lock from its requirements.txt (UPGRADE=1: newest)
	$(MAKE) -C layers/presign lock UV=$(CURDIR)/$(BIN)/uv $(if $(UPGRADE),UPGRADE=1)

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

dev: venv examples ## run the service locally: SeaweedFS + moto_server + API Gateway emulator (AUTH=oidc for RS256/JWKS, PREFIX='tenants/{tenant}/users/{sub}/', STORAGE_PROXY=1)
	$(BIN)/python -m local.dev --auth $(or $(AUTH),hs256) $(if $(PREFIX),--prefix '$(PREFIX)') $(if $(STORAGE_PROXY),--storage-proxy)

doctor: venv ## check the running `make dev` stack's storage end to end (any other: python -m presign.doctor --config FILE)
	$(BIN)/python -m local.doctor

cleanup: venv ## run the cleanup function against the running `make dev` stack (DRY_RUN=1: count only)
	@$(BIN)/python -m local.invoke CleanupFunction --payload '$(if $(DRY_RUN),{"dry_run": true},{})' \
		$(if $(STATE),--state-file $(STATE))

token: venv ## mint a dev token: make token SUB=alice (TENANT=acme, CLAIMS='org=x team=y': more claims)
	@$(BIN)/python -m local.token --sub '$(or $(SUB),alice)' $(if $(TENANT),--claim 'tenant=$(TENANT)') \
		$(foreach claim,$(CLAIMS),--claim '$(claim)')

test: venv $(SAM) examples clients lint openapi-check template test-clients-js ## every check and every test, as CI runs them
	$(BIN)/pytest -q

unit: venv $(SAM) ## the fast tests only (the template tests run SAM's translator from $(SAM_VENV))
	$(BIN)/pytest -q tests/unit

lint: venv ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

openapi: venv ## regenerate the committed OpenAPI document
	$(BIN)/python -m local.openapi

openapi-check: venv
	$(BIN)/python -m local.openapi --check

# `sam validate --lint` only runs cfn-lint; plain `sam validate` runs SAM's own transform too.
# The build makefiles compile bytecode with PYTHON, which must be 3.11: use the venv's.
template: venv $(SAM) ## cfn-lint, sam validate (with and without --lint) and sam build
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --region us-east-1
	$(SAM) validate --lint --region us-east-1
	PYTHON=$(CURDIR)/$(BIN)/python $(SAM) build

build: venv $(SAM) ## sam build (ships compiled bytecode; see layers/presign/Makefile)
	PYTHON=$(CURDIR)/$(BIN)/python $(SAM) build

deploy: build ## sam deploy to ENV (default dev; see samconfig.toml)
	$(SAM) deploy --config-env $(ENV)

# What the TypeScript client is measured against (@uppy/aws-s3, UploadThing's client), from a lock of
# its own: never in clients/js, whose lock holds the client's own tools only.
BENCH_JS_INSTALLED := benchmarks/js/node_modules/.package-lock.json
$(BENCH_JS_INSTALLED): benchmarks/js/package.json benchmarks/js/package-lock.json
	cd benchmarks/js && $(NPM) ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

bench: venv $(SAM) clients $(BENCH_JS_INSTALLED) ## benchmarks, each figure as a ratio against a baseline of the same run
	$(BIN)/python -m benchmarks

clean:
	rm -rf .aws-sam .local .hypothesis .mypy_cache .ruff_cache examples/node_modules examples/uppy/vendor \
		examples/web/vendor examples/react/vendor clients/js/node_modules clients/js/dist \
		benchmarks/js/node_modules $(CLIENT_VENV) clients/python/dist
