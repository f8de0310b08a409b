# The build recipe every function shares. `sam build` (BuildMethod: makefile in template.yaml) runs
# `make build-<LogicalId>` from each function's Makefile, in a scratch copy of that function's
# folder, with ARTIFACTS_DIR set; Lambda unpacks the result to /var/task (read-only).
#
# The handler ships with bytecode for the reasons given in layers/presign/Makefile: compiled by
# Python LAMBDA_PYTHON (the runtime's bytecode format) with --invalidation-mode unchecked-hash (the zip
# does not keep the mtimes a timestamp .pyc is checked against).

# The runtime (template.yaml: Runtime); the top Makefile and layers/presign/Makefile say the same.
LAMBDA_PYTHON ?= 3.13
PYTHON ?= python$(LAMBDA_PYTHON)

# Everything but build files, tests and caches (a handler may grow helper modules or data).
COPY = import shutil, sys; shutil.copytree(".", sys.argv[1], dirs_exist_ok=True, \
	ignore=shutil.ignore_patterns("Makefile", "__pycache__", "*.pyc", "tests", ".*"))

comma := ,
VERSION_CHECK = import sys; v = tuple(sys.version_info[:2]); sys.exit(0 if v == ($(subst .,$(comma) ,$(LAMBDA_PYTHON))) else \
	"%s is Python %d.%d, but the bytecode must be compiled by Python $(LAMBDA_PYTHON) (the Lambda runtime), \
	or the runtime ignores it. Set PYTHON=/path/to/python$(LAMBDA_PYTHON)" % ((sys.executable,) + v))

.PHONY: build-function check-python

build-function: check-python
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (run through sam build)" >&2; exit 2; }
	$(PYTHON) -c '$(COPY)' "$(ARTIFACTS_DIR)"
	$(PYTHON) -m compileall -q --invalidation-mode unchecked-hash \
		-s "$(ARTIFACTS_DIR)" -p /var/task "$(ARTIFACTS_DIR)"

check-python:
	@$(PYTHON) -c '$(VERSION_CHECK)'
