"""Corpus readers; each returns the same :class:`Corpus` utterance table."""

from .base import CLASS_SETS, EMOTIONS, Corpus, CorpusError, CorpusWarning, session_of, speaker_of
from .iemocap import read_iemocap


def load_corpus(corpus: str = "synthemo", classes: str = "paper", strict: bool = True, seed: int = 0) -> Corpus:
    """``'synthemo'`` (generated on first use, default size) or the root of an IEMOCAP-layout corpus."""
    if corpus == "synthemo":
        from .synthemo import load_synthemo

        return load_synthemo(seed=seed, classes=classes, strict=strict)
    return read_iemocap(corpus, classes=classes, strict=strict)


__all__ = ["CLASS_SETS", "EMOTIONS", "Corpus", "CorpusError", "CorpusWarning", "load_corpus", "read_iemocap",
           "session_of", "speaker_of"]
