# The README's two commands: `make reproduce` and `make test`. Both create
# .venv on first use, so a fresh machine, CI and yours see the same thing.
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
QUICK ?= 0
# PyTorch's CPU build comes from PyTorch's own index: on Linux, PyPI's torch is the CUDA build (GBs of
# nvidia-* wheels). Empty: whatever index pip is configured with (PyPI, or a mirror that holds the CPU build).
TORCH_INDEX ?=

.PHONY: reproduce test book notebooks clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# PyTorch first, pinned, so that the package's `torch>=2.1` finds it installed
	$(PY) -m pip install -q torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
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
	MINISERMETA_QUICK=$(QUICK) $(PY) -m minisermeta.book notebooks/*.ipynb

clean:
	rm -rf _build runs
