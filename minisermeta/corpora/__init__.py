"""Corpus readers; each returns the same :class:`Corpus` utterance table.

``load_corpus`` picks the reader: ``NAME:PATH`` names it (``iemocap``,
``emodb``, ``cremad``, ``ravdess``, ``manifest``), and a bare path is
recognised by its layout (:func:`detect`).
"""

from pathlib import Path

from .base import CLASS_SETS, EMOTIONS, Corpus, CorpusError, CorpusWarning, gender_of, session_of, speaker_of
from .cremad import read_cremad
from .emodb import read_emodb
from .iemocap import read_iemocap
from .manifest import read_manifest
from .ravdess import read_ravdess

READERS = {"iemocap": read_iemocap, "emodb": read_emodb, "cremad": read_cremad, "ravdess": read_ravdess,
           "manifest": read_manifest}


def detect(path) -> str:
    """The reader for a corpus at ``path`` by its layout: a CSV file is a manifest, a folder is recognised by
    what it holds; an error listing the layouts where none matches."""
    path = Path(path).expanduser()
    if path.is_file() and path.suffix.lower() == ".csv":
        return "manifest"
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such corpus folder or manifest")
    found = [name for name, pattern in (("iemocap", "Session*/dialog/EmoEvaluation/*.txt"),
                                         ("cremad", "AudioWAV/*_*_*_*.wav"), ("ravdess", "Actor_*/*-*-*.wav"),
                                         ("emodb", "wav/*.wav")) if any(path.glob(pattern))]
    if len(found) != 1:
        what = f"it matches {' and '.join(found)}" if found else "no layout matches"
        raise ValueError(f"{path}: cannot tell which corpus this is ({what}); name it, e.g. "
                         f"--corpus emodb:{path} (one of {', '.join(READERS)})")
    return found[0]


def load_corpus(corpus: str = "synthemo", classes: str = "paper", strict: bool = True, seed: int = 0) -> Corpus:
    """``'synthemo'`` (generated on first use, default size), ``NAME:PATH`` (``NAME`` a key of
    :data:`READERS`), or a path whose layout tells the reader (:func:`detect`); ``classes`` a key of
    :data:`CLASS_SETS` (``all``: every emotion the corpus labels, ``base.classes_of``)."""
    if corpus == "synthemo":
        from .synthemo import load_synthemo

        return load_synthemo(seed=seed, classes=classes, strict=strict)
    name, _, path = str(corpus).partition(":")
    if name.lower() not in READERS or not path:
        name, path = detect(corpus), str(corpus)
    return READERS[name.lower()](path, classes=classes, strict=strict)


__all__ = ["CLASS_SETS", "EMOTIONS", "READERS", "Corpus", "CorpusError", "CorpusWarning", "detect", "gender_of",
           "load_corpus", "read_cremad", "read_emodb", "read_iemocap", "read_manifest", "read_ravdess",
           "session_of", "speaker_of"]
