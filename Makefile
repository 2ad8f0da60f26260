# Every target creates the virtual environment .venv (Python 3.11) with the pinned
# dependency set on first use, so each command works on a fresh checkout.
PYTHON ?= python3.11
VENV ?= .venv
EXTRAS ?= all
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(EXTRAS)

.PHONY: validate test benchmark clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	touch $@

validate: $(STAMP)  ## the main job: validate every protocol on every installed backend, write a report
	$(BIN)/stdp-validate $(ARGS)

test: $(STAMP)  ## the test suite (benchmarks and hardware tests excluded)
	$(BIN)/python -m pytest $(ARGS)

benchmark: $(STAMP)  ## timing benchmarks, saved for --benchmark-compare
	$(BIN)/python -m pytest tests/benchmarks --benchmark-enable --benchmark-autosave $(ARGS)

clean-venv:
	rm -rf $(VENV)
