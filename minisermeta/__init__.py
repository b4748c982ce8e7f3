"""minisermeta: label-noise meta-learning for speech emotion recognition.

A reimplementation of Fujioka et al., "Addressing ambiguity of emotion labels
through meta-learning" (ICASSP 2020), and the library behind its book::

    import minisermeta as msm
    corpus = msm.load_corpus("synthemo")          # or an IEMOCAP-layout root
    tables = msm.reproduce(corpus, preset_name="quick", out="runs/quick")
"""

from .corpora import Corpus, CorpusError, load_corpus, read_iemocap
from .cv import loso_folds
from .dataset import Dataset
from .features import Normaliser, extract
from .pipeline import prepare, reproduce
from .settings import quick_mode
from .train import CONDITIONS, PRESETS, preset, run, set_seed

__all__ = [
    "CONDITIONS", "PRESETS", "Corpus", "CorpusError", "Dataset", "Normaliser", "extract", "load_corpus",
    "loso_folds", "prepare", "preset", "quick_mode", "read_iemocap", "reproduce", "run", "set_seed",
]
