import os

import numpy as np
import pytest
import soundfile as sf

# Tests never touch the user's cache.
os.environ.setdefault("MINISERMETA_HOME", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "home"))

@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built from a copy of the repository (`jupyter-book build -W -n`, offline); its HTML folder."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.exists():
        pytest.skip("jupyter-book is not installed (pip install -e '.[book]')")
    root = Path(__file__).resolve().parents[1]
    source = tmp_path_factory.mktemp("book") / "src"
    shutil.copytree(root, source, ignore=shutil.ignore_patterns(".venv", "_build", "runs", ".pytest_cache", ".git",
                                                                "*.egg-info", "__pycache__"))
    done = subprocess.run([str(jupyter_book), "build", str(source), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return source / "_build" / "html"


@pytest.fixture(scope="module")
def dataset():
    """A small in-memory dataset (``helpers.toy_dataset``), shared by a module's training tests."""
    from helpers import toy_dataset

    return toy_dataset()


@pytest.fixture(scope="module")
def fold(dataset):
    from minisermeta.folds import loso_folds

    return loso_folds(dataset.speakers)[0]


HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


def write_wav(path, seconds=1.0, rate=16_000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 180 * t)
    data = tone if channels == 1 else np.stack([tone] * channels, axis=1)
    sf.write(path, data, rate, subtype="PCM_16")


def write_evaluation(root, session, dialog, blocks):
    """blocks: list of (utterance, code, [vote lines]) written in the real format."""
    path = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER
    for i, (utterance, code, lines) in enumerate(blocks):
        text += f"[{i * 3 + 1.2345:.4f} - {i * 3 + 2.5:.4f}]\t{utterance}\t{code}\t[2.5000, 3.0000, 2.0000]\n"
        text += "".join(line + "\n" for line in lines) + "\n"
    path.write_text(text)
    for utterance, _, _ in blocks:
        write_wav(root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utterance}.wav")
    return path


@pytest.fixture
def iemocap_tree(tmp_path):
    """A tiny IEMOCAP-layout tree with the exact line formats of the release."""
    root = tmp_path / "IEMOCAP_full_release"
    write_evaluation(
        root,
        1,
        "Ses01F_impro01",
        [
            ("Ses01F_impro01_F000", "neu", ["C-E2:\tNeutral;\t()", "C-E3:\tNeutral;\t()", "C-E4:\tNeutral;\t()",
                                            "C-F1:\tNeutral;\t(curious)", "A-E3:\tval 3; act 2; dom  2;\t()",
                                            "A-F1:\tval 3; act 2; dom  1;\t()"]),
            ("Ses01F_impro01_M003", "hap", ["C-E1:\tHappiness;\t()", "C-E2:\tExcited; Happiness;\t()",
                                            "C-E4:\tNeutral;\t()", "C-M1:\tHappiness;\t()"]),
            ("Ses01F_impro01_F001", "exc", ["C-E1:\tExcited;\t()", "C-E2:\tExcited;\t()", "C-E3:\tHappiness;\t()"]),
            ("Ses01F_impro01_M004", "xxx", ["C-E1:\tAnger;\t()", "C-E2:\tFrustration;\t()",
                                            "C-E3:\tOther:annoyed;\t(comment)"]),
            ("Ses01F_impro01_F002", "fru", ["C-E1:\tFrustration;\t()", "C-E2:\tFrustration;\t()"]),
        ],
    )
    write_evaluation(
        root,
        3,
        "Ses03M_impro05a",
        [
            ("Ses03M_impro05a_F017", "sad", ["C-E1:\tSadness;\t()", "C-E2:\tSadness;\t()", "C-E3:\tNeutral;\t()"]),
            ("Ses03M_impro05a_M001", "ang", ["C-E1:\tAnger;\t()", "C-E2:\tAnger;\t()", "C-E3:\tFrustration;\t()"]),
        ],
    )
    write_evaluation(
        root,
        5,
        "Ses05M_script01_1b",
        [("Ses05M_script01_1b_F000", "neu", ["C-E1:\tNeutral;\t()", "C-E2:\tSadness;\t()", "C-E3:\tNeutral;\t()"])],
    )
    return root
