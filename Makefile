# The two commands of the README:
#   make run    set up rigcheck in .venv and recommend a build for ₹1.25 lakh (the main job)
#   make test   set up .venv-test (with the CPU build of torch) and run the whole test suite
#
# .venv sees the system's site-packages so `rigcheck doctor` and `rigcheck bench` diagnose and use
# YOUR PyTorch; rigcheck itself never installs or replaces torch there.
# .venv-test is isolated and pins torch 2.13.0: on the CI image that is a CPU build carried on
# local disk (an unpinned `torch` would pull a multi-GB CUDA build). Elsewhere, ask for the CPU
# build explicitly: make test TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
#
# make mutate   mutation testing of the decision modules listed in tools/mutate.toml (module ->
#               its tests); prints caught / tried per module and every surviving mutant with its
#               line. One module: python tools/mutate.py rigcheck/money.py --tests tests/test_money.py
#               (add -j 2, --lines A-B, -v, --list; see tools/mutate.py). MUTATE_ARGS="--only recommend"
#               narrows `make mutate`. The whole list takes long on 2 cores: run your own modules.

PYTHON ?= python3
VENV ?= .venv
TEST_VENV ?= .venv-test
TORCH_CPU ?= torch==2.13.0
TORCH_INDEX ?=
BUDGET ?= 125000INR
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: run test lint mutate bench-startup bench-recommend clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -e .
	touch $@

$(TEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -m pip install $(PIP_FLAGS) $(TORCH_INDEX) "$(TORCH_CPU)"
	$(TEST_VENV)/bin/python -m pip install $(PIP_FLAGS) -e ".[test]"
	touch $@

# Exit 1 is an answer, not a failure: no build fits the budget (the output shows the cheapest
# build and what it costs over); anything else is an error.
run: $(VENV)/.installed
	$(VENV)/bin/rigcheck recommend --budget $(BUDGET) || [ $$? -eq 1 ]

test: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m pytest -q

# make lint    ruff (style + the architecture: bans per layer, lazy torch; tests/test_layers.py) and
#              mypy (zero errors over rigcheck/, strict on the pure layers; [tool.mypy] in pyproject
#              lists the modules still exempt: doctor.signatures.*, doctor.stack)
lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/ruff check rigcheck tests benchmarks tools
	$(TEST_VENV)/bin/mypy

MUTATE_ARGS ?=
mutate: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python tools/mutate.py --all $(MUTATE_ARGS)

bench-startup: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/startup.py

bench-recommend: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/recommend_speed.py

clean:
	rm -rf $(VENV) $(TEST_VENV) build dist *.egg-info
