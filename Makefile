# The two quick-start commands live here: `make lab` and `make test` (see README).
# Every target is idempotent: the environment is (re)built only when its inputs change.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.solidtype-installed
# Tools the build calls by name (jupyter-builder, jupyter) come from the environment.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test install lint typecheck pytest conformance labextension clean

# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

## Create the environment if needed, then start JupyterLab on the quick-start notebook.
## Without ANTHROPIC_API_KEY or SOLIDTYPE_MODEL the chat runs the scripted demo model.
## JupyterLab runs in LAB_DIR, a git-ignored working copy of notebooks/: autosaved outputs,
## the documents and exports the demos write, and jupyter-collaboration's .jupyter/ and
## ystore all land there, so using the demos never dirties the checkout or breaks `make test`.
## A demo is copied only when missing (your edits are kept; delete LAB_DIR to start over).
## More options for `jupyter lab`: make lab LAB_ARGS="--no-browser --ServerApp.port=8899"
LAB_DIR := .lab
LAB_ARGS ?=
lab: install
	@mkdir -p $(LAB_DIR)
	@for notebook in notebooks/*.ipynb; do \
		[ -e "$(LAB_DIR)/$${notebook##*/}" ] || { cp "$$notebook" $(LAB_DIR)/ && \
			echo "copied $$notebook to $(LAB_DIR)/"; }; \
	done
	@echo "JupyterLab serves $(LAB_DIR)/ (git-ignored); the URL below opens 01-quickstart.ipynb"
	cd $(LAB_DIR) && \
		SOLIDTYPE_MODEL="$${SOLIDTYPE_MODEL:-$$( [ -n "$${ANTHROPIC_API_KEY:-}" ] || echo scripted:quickstart)}" \
		$(abspath $(BIN))/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/01-quickstart.ipynb $(LAB_ARGS)

## Create the environment if needed, then run every check and the whole test suite.
test: install lint typecheck pytest conformance

install: $(STAMP)

$(STAMP): pyproject.toml labextension/package.json labextension/package-lock.json
	@# Headless PNG rendering: VTK loads Mesa's EGL at run time (no display needed).
	@PATH="$$PATH:/sbin:/usr/sbin" ldconfig -p | grep -q 'libEGL_mesa.so.0' || \
		! command -v apt-get >/dev/null || \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# `labextension develop` below links the venv's labextension folder to the source tree;
	@# pip would install the wheel's install.json through that link into the source (where a
	@# later `pip wheel .` then finds it twice), so the link goes before pip runs.
	rm -f $(VENV)/share/jupyter/labextensions/solidtype-jupyter
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	$(BIN)/jupyter labextension develop --overwrite .
	touch $@

## Rebuild the labextension after editing labextension/src (the editable install links it).
labextension: install
	cd labextension && npm run build

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

## Browser tests (tests/e2e) drive JupyterLab in Debian's `chromium` (/usr/bin/chromium,
## `apt-get install chromium`); without it they are skipped (SOLIDTYPE_REQUIRE_BROWSER=1: fail).
pytest: install chat-client
	$(BIN)/pytest -ra $(PYTEST_ARGS)

## The pinned TanStack AI client the chat route is tested with (tests/chat/node).
.PHONY: chat-client
chat-client:
	cd tests/chat/node && npm ci --no-audit --no-fund

## The official Durable Streams conformance suite (pinned in tests/conformance) against the
## extension on SQLite, and on PostgreSQL when SOLIDTYPE_TEST_POSTGRES_URL is set.
conformance: install
	cd tests/conformance && npm ci --no-audit --no-fund
	$(BIN)/python tests/conformance/run.py

## Build a fresh virtual environment only from binder/ (as repo2docker would) and run the
## quickstart notebook in it with no API key (about 3 minutes with a warm download cache).
.PHONY: binder-check
binder-check:
	bash tests/binder/fresh_env.sh

clean:
	rm -rf $(VENV) labextension/node_modules labextension/lib solidtype_jupyter/labextension
