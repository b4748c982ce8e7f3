"""pytest setup shared by the unit tests and the notebooks (``pytest --nbval-lax``).

The notebooks run in the quick mode, and the kernels nbval starts inherit this
environment. ``MINISERMETA_HOME`` is the test suite's own cache (as in
``tests/conftest.py``), so tests never touch the user's. This file sits at the
root (not in ``notebooks/``) so that ``from conftest import …`` in ``tests/``
still finds ``tests/conftest.py``.
"""

import os

os.environ.setdefault("MINISERMETA_QUICK", "1")
os.environ.setdefault("MINISERMETA_HOME", os.path.join(os.path.dirname(__file__), ".pytest_cache", "home"))
