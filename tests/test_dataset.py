import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import toy_dataset

from minisermeta.dataset import Dataset


@pytest.mark.parametrize("with_truth", [True, False])
def test_a_saved_dataset_loads_with_the_same_fingerprint(tmp_path, with_truth):
    dataset = toy_dataset(per_speaker=4)
    dataset = dataset if with_truth else replace(dataset, truth=None)
    dataset.save(tmp_path / "d.npz")
    loaded = Dataset.load(tmp_path / "d.npz")
    assert loaded.fingerprint() == dataset.fingerprint()
    assert loaded.classes == dataset.classes and (loaded.truth is None) == (not with_truth)
    np.testing.assert_array_equal(loaded.frames, dataset.frames)
    assert loaded.frames.dtype == np.float32 and loaded.frames.flags["C_CONTIGUOUS"]


def test_a_damaged_dataset_file_is_refused_by_name(tmp_path):
    path = tmp_path / "d.npz"
    toy_dataset(per_speaker=4).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="d.npz is not a dataset written by Dataset.save"):
        Dataset.load(path)


TRAIN_WITHOUT_AUDIO_LIBRARIES = """
import sys
class Refuse:  # a GPU node: neither openSMILE nor soundfile is installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("opensmile", "soundfile"):
            raise ImportError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, {tests!r})
from helpers import tiny_settings
from minisermeta.dataset import Dataset
from minisermeta.folds import loso_folds
from minisermeta.train import train_job
dataset = Dataset.load({path!r})
result = train_job(dataset, "L_w", loso_folds(dataset.speakers)[0], settings=tiny_settings(max_epochs=1))
print(len(result["epochs"]))
"""


def test_a_saved_dataset_trains_where_neither_opensmile_nor_soundfile_is_installed(tmp_path):
    toy_dataset(per_speaker=4).save(tmp_path / "d.npz")
    script = TRAIN_WITHOUT_AUDIO_LIBRARIES.format(tests=str(Path(__file__).parent), path=str(tmp_path / "d.npz"))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 1
