# The README's two commands: `make reproduce` and `make test`. Both create
# .venv on first use, so a fresh machine, CI and yours see the same thing.
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
QUICK ?= 0

.PHONY: reproduce test book notebooks clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of PyTorch first: a bare `torch` requirement may pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,book]"
	touch $@

reproduce: $(VENV)/.installed
	$(PY) -m minisermeta reproduce $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest $(ARGS)

book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Re-execute the book's notebooks in place. The default, QUICK=0, is the full mode the
# rendered book shows (paper preset; loads results/book-paper, or runs it: hours on a CPU).
notebooks: $(VENV)/.installed
	MINISERMETA_QUICK=$(QUICK) $(PY) -m minisermeta.book notebooks/0*.ipynb

clean:
	rm -rf _build runs
