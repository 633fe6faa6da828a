# Two commands: `make dev` runs the local stack, `make test` runs the suite.
# Both build the virtualenv first, from nothing but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test install clean schema bench package-check web chromium FORCE

# `make dev HOST=0.0.0.0` listens on every interface (a phone on the LAN); `make dev RESET=1` starts with no saved data.
HOST ?= 127.0.0.1
PORT ?= 8000
RESET ?=
CHROMIUM ?= /usr/bin/chromium

# The partner plugin examples (src/ layout), installed as a partner would install theirs (the suite proves they run).
PARTNER_EXAMPLES := wecom_group_bonus member_day

$(STAMP): pyproject.toml $(foreach p,$(PARTNER_EXAMPLES),examples/$(p)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet $(foreach p,$(PARTNER_EXAMPLES),-e examples/$(p))
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP) web
	$(PY) -m infra.local --host $(HOST) --port $(PORT) $(if $(RESET),--reset)

# --- Front ends (web/): the H5 member centre, the staff console and offline GraphiQL, built by Vite into build/web
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/member web/console web/graphiql web/shared -type f -not -path '*/gql/generated.ts' 2>/dev/null) \
	web/codegen.ts schema.graphql

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

build/web/.built: $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run --silent build
	touch $@

web: build/web/.built

# The browser tests drive the OS's Chromium (never a downloaded one): installed here when missing and allowed, with
# a Chinese font so the pages' screenshots are legible (phones have one; a bare server does not).
chromium:
	@if [ -x "$(CHROMIUM)" ] && { ! command -v fc-list >/dev/null || fc-list :lang=zh | grep -q .; }; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium fonts-wqy-microhei; \
	elif [ -x "$(CHROMIUM)" ]; then \
		echo "note: no Chinese font: screenshots show boxes (sudo apt-get install -y fonts-wqy-microhei)"; \
	else \
		echo "Chromium is missing at $(CHROMIUM); the browser tests need it. Install it with:"; \
		echo "    sudo apt-get update && sudo apt-get install -y chromium fonts-wqy-microhei"; \
		exit 1; \
	fi

# Packaging first, so tests/test_package.py inspects a fresh artifact and never skips here (and a broken package
# fails in seconds, before the slower suite). The browser tests need the built pages and Chromium.
# One pytest worker per core, each with its own embedded DynamoDB (a worker is one interpreter, one GIL: two workers
# on the 2-core CI machine take the suite from about 17 to 11 minutes); a file's tests run together on one worker.
# `make test WORKERS=0` runs it in this process, in file order.
WORKERS ?= auto
test: $(STAMP) package-check web chromium
	$(PY) -m pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile) --durations=20

# The committed schema.graphql is what front ends build against; tests fail when it drifts from the code.
schema: $(STAMP)
	$(PY) -c "from strawberry.printer import print_schema; from api.schema import schema; open('schema.graphql', 'w').write(print_schema(schema) + '\n')"

# --- Deployable (serverless.yml): the Lambda artifact, `serverless package` offline, cfn-lint ----------------------
# The artifact build/siyu.zip is the code (the packages below, less the local-only modules) and the runtime
# dependencies of pyproject.toml ([project].dependencies, pinned), installed by pip for the functions' platform:
# python3.11 on arm64 (serverless.yml, provider.architecture). Every .py is precompiled (unchecked-hash .pyc: the
# artifact is immutable and /var/task is read-only, so Lambda could never cache its own), which spares each cold
# start compiling botocore, strawberry and graphql-core.
LAMBDA_PLATFORM := manylinux2014_aarch64
LAMBDA_PACKAGES := api rules plugins events infra
LAMBDA_EXCLUDE := infra/local.py infra/embedded_dynamodb.py infra/demo.py
LAMBDA_FILES := $(filter-out $(LAMBDA_EXCLUDE),$(sort $(shell find $(LAMBDA_PACKAGES) -type f \
	-not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null)))
# The bytecode of the methods dataclasses generates when the functions load these modules (infra/dataclass_code.py),
# built with this checkout's code: the methods of a class it holds are not compiled again at a cold start.
DATACLASS_CODE := infra/__pycache__/dataclass_code.cpython-311.marshal
DATACLASS_MODULES := api.app infra.runtime events.stream events.sweep_worker
# botocore's service models and endpoint data as its clients load them, parsed once (infra/botocore_data.py).
BOTOCORE_DATA := infra/__pycache__/botocore_data.cpython-311.marshal
NPM_STAMP := node_modules/.installed
PARTNER_ZIPS := $(foreach p,$(PARTNER_EXAMPLES),build/partner-$(p).zip)
# What a partner's sandbox holds: the core and SDK, and the families' pure halves (their declared effects and the
# holdings partners see), never their storage or GraphQL halves.
RULES_FILES := $(filter rules/%,$(LAMBDA_FILES)) $(filter-out %/storage.py %/graphql.py,$(filter plugins/%,$(LAMBDA_FILES)))
SLS := node_modules/.bin/serverless
CFN_TEMPLATE := .serverless/cloudformation-template-update-stack.json

# Install scripts stay off: the framework needs none of them (they only print notices).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# The list of packaged files is itself a prerequisite, so adding or removing a file rebuilds the artifact too.
build/lambda-files.txt: FORCE
	@mkdir -p build
	@printf '%s\n' $(LAMBDA_FILES) | cmp -s - $@ || printf '%s\n' $(LAMBDA_FILES) > $@

build/lambda-deps/.installed: pyproject.toml $(STAMP)
	rm -rf build/lambda-deps
	mkdir -p build
	$(PY) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > build/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile --target build/lambda-deps \
		--platform $(LAMBDA_PLATFORM) --implementation cp --python-version 3.11 --only-binary=:all: \
		-r build/requirements.txt
	rm -rf build/lambda-deps/bin
	$(PY) -m compileall -q -j 0 --invalidation-mode unchecked-hash build/lambda-deps
	touch $@

build/siyu.zip: build/lambda-deps/.installed build/lambda-files.txt $(LAMBDA_FILES)
	rm -rf build/lambda
	cp -a build/lambda-deps build/lambda
	rm build/lambda/.installed
	tar -cf - -T build/lambda-files.txt | tar -xf - -C build/lambda
	$(PY) -m compileall -q --invalidation-mode unchecked-hash $(addprefix build/lambda/,$(LAMBDA_PACKAGES))
	$(PY) -m infra.dataclass_code --out build/lambda/$(DATACLASS_CODE) $(DATACLASS_MODULES)
	$(PY) -m infra.botocore_data --out build/lambda/$(BOTOCORE_DATA)
	$(PY) -c "$$ZIP_DIR" build/lambda $@.tmp
	mv $@.tmp $@

$(CFN_TEMPLATE): build/siyu.zip $(PARTNER_ZIPS) serverless.yml $(NPM_STAMP)
	SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off $(SLS) package --stage ci

# Each partner package runs as a Lambda function of its own (serverless.yml, rules/sandbox.py): its artifact holds
# `rules` (the plugin SDK and the sandbox's handler) with the families' pure halves, the runtime dependencies, and
# the package itself, installed by pip with its entry-point metadata. Nothing of api, infra or events, and no
# family's storage or GraphQL half.

.SECONDEXPANSION:
build/partner-%.zip: build/lambda-deps/.installed $(RULES_FILES) $$(shell find examples/$$* -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -path '*/build/*')
	rm -rf build/partner-$*
	cp -a build/lambda-deps build/partner-$*
	rm build/partner-$*/.installed
	printf '%s\n' $(RULES_FILES) | tar -cf - -T - | tar -xf - -C build/partner-$*
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target build/partner-$* ./examples/$*
	rm -rf examples/$*/build
	$(PY) -m compileall -q --invalidation-mode unchecked-hash build/partner-$*/rules build/partner-$*/plugins build/partner-$*/$*
	$(PY) -c "$$ZIP_DIR" build/partner-$* $@.tmp
	mv $@.tmp $@

# cfn-lint fails on errors and warnings alike, in the region serverless.yml deploys to by default. W3005 (a
# DependsOn that a Ref or GetAtt already implies) is ignored: serverless writes those DependsOn itself.
package-check: $(CFN_TEMPLATE)
	$(VENV)/bin/cfn-lint --regions ap-northeast-1 --ignore-checks W3005 -- $(CFN_TEMPLATE)
	@echo "artifact build/siyu.zip: $$(( $$(wc -c < build/siyu.zip) / 1024 )) KB"

# A zip whose bytes depend only on the files: sorted entries, fixed timestamps, so an unchanged service is not
# redeployed.
define ZIP_DIR
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
    for top, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            info = zipfile.ZipInfo(os.path.relpath(path, root), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                zf.writestr(info, f.read())
endef
export ZIP_DIR

# Cold start of the Lambda handlers (import, then first invocation) against boto3's, in fresh interpreters.
bench: $(STAMP)
	$(PY) bench/import_time.py
	$(PY) bench/partner_latency.py

FORCE:

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info .serverless web/node_modules
