"""Process-wide switches read from environment variables, each in one place.

``MINISERMETA_QUICK=1`` (or ``CI`` being set, as on every CI service) makes the
quick preset the default (a preset named explicitly still runs as named) and the
book's chapters run their quick setups: small enough for a laptop CPU and for CI.
``MINISERMETA_QUICK=0`` forces the full mode even under CI.
``MINISERMETA_HOME`` moves the cache of generated corpora and features
(default ``~/.cache/minisermeta``).
"""

from __future__ import annotations

import os
from pathlib import Path


def quick_mode() -> bool:
    """True when the quick preset should be used (see the module docstring)."""
    flag = os.environ.get("MINISERMETA_QUICK")
    if flag is not None:
        return flag.strip().lower() not in ("", "0", "false", "no")
    return bool(os.environ.get("CI"))


def home() -> Path:
    """Where generated corpora and the feature cache live."""
    return Path(os.environ.get("MINISERMETA_HOME", Path.home() / ".cache" / "minisermeta")).expanduser()
