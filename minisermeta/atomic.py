"""Writing a file so that it is either absent or complete, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable


def write_atomically(path: Path, write: Callable[[IO], None], binary: bool = False, exclusive: bool = False) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    A rename within one directory is atomic, so a process killed mid-write
    leaves at most a stray ``*.tmp`` file, never a truncated ``path``.
    ``exclusive``: link instead of rename, so ``FileExistsError`` if ``path``
    exists (two processes creating it: one wins, the other learns it lost).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb" if binary else "w") as file:
            write(file)
        os.chmod(temporary, _mode_of_a_new_file())  # mkstemp makes it 0600; results are meant to be shared
        if exclusive:
            os.link(temporary, path)
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mode_of_a_new_file() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
