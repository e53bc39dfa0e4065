# Commands for people: `make lab`, `make present` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

PRESENT_PORT ?= 8866

.PHONY: lab present test install browser lint bench clean i18n site

install: $(STAMP)

# Re-runs only when a dependency file changes (stamp on pyproject.toml and constraints.txt).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# A Chromium for the browser tests: Debian's package when we are root, else playwright's.
browser: $(STAMP)
	@$(BIN)/python tests/browser/find_browser.py --install

lab: $(STAMP)
	@echo "Starting JupyterLab on lessons/. Open the http://127.0.0.1:...?token=... URL that it prints"
	@echo "below (its port moves on from $(PORT) when $(PORT) is taken)."
	$(BIN)/jupyter lab --notebook-dir=lessons --ip=127.0.0.1 --port=$(PORT) --no-browser $(ROOT_FLAG)

# The Playground as a code-free lecture app: Voila serves lessons/playground.ipynb (no code,
# no CDN) on 127.0.0.1 and prints the URL to open.
present: $(STAMP)
	@$(BIN)/python -m rnnviz.app.serve --port $(PRESENT_PORT)

lint: $(STAMP)
	$(BIN)/ruff check rnnviz tests benchmarks

# Tiny models run fastest on one thread, and CI's two cores are shared by pytest, kernels
# and Chromium. (Equal rounded results across thread counts are tested separately.)
# RNNVIZ_SOLUTIONS=1 runs the lessons' %%solution cells, so nbval checks every solution.
test: $(STAMP) browser lint
	OMP_NUM_THREADS=1 RNNVIZ_SOLUTIONS=1 $(BIN)/python -m pytest tests lessons --nbval-lax \
		--nbval-sanitize-with lessons/sanitize.cfg -p no:cacheprovider

# The course as a static site in site/ (offline: plotly.js and MathJax copied from installed
# packages). Executes every lesson; the dashboards become recorded replays.
site: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m tests.site.build --out site --jobs 2

bench: $(STAMP) browser
	$(BIN)/python -m benchmarks.run
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.bench_lessons
	$(BIN)/python -m benchmarks.bench_dashboard

# The Russian catalogue: extract rnnviz's strings with Babel into rnnviz/locale/rnnviz.pot, merge
# them into rnnviz/locale/ru/LC_MESSAGES/rnnviz.po (new ones empty, changed ones fuzzy), compile
# the .mo; then list what still needs translating (exit 1 until it is all done).
i18n: $(STAMP)
	$(BIN)/python -m tests.i18n_catalogue --update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis site
