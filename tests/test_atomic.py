"""write_atomically: complete or absent, never half-written, with a normal file mode."""

import os
import stat

import pytest

from minisermeta.atomic import write_atomically


def test_writes_the_file_with_the_umask_mode(tmp_path):
    path = tmp_path / "sub" / "result.json"
    write_atomically(path, lambda f: f.write("{}"))
    assert path.read_text() == "{}"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("old")

    def fail(file):
        file.write("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomically(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
