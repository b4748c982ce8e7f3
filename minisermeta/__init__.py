"""minisermeta: label-noise meta-learning for speech emotion recognition.

A reimplementation of Fujioka et al., "Addressing ambiguity of emotion labels
through meta-learning" (ICASSP 2020), and the library behind its book::

    import minisermeta as msm
    corpus = msm.load_corpus("synthemo")          # or an IEMOCAP-layout root
    tables = msm.reproduce(corpus, preset_name="quick", out="runs/quick")

The data flow, one direction: corpus (``corpora``) → features (``features``,
``dataset``) → folds (``folds``) → a method (``methods``) trained by the loop
(``train``) → the grid of jobs (``grid``) → a run directory (``pipeline``) →
tables (``report``) → the book (``book``, ``plots``, ``widgets``).
"""

from .corpora import Corpus, CorpusError, load_corpus, read_iemocap
from .dataset import Dataset
from .environment import quick_mode
from .features import Normaliser, extract
from .folds import Fold, loso_folds
from .methods import CONDITIONS, PAPER_CONDITIONS, FixedTargets, LearnedLabelsWeights, Method
from .pipeline import prepare, reproduce
from .settings import PRESETS, Settings, preset
from .train import set_seed, train_job

__all__ = [
    "CONDITIONS", "PAPER_CONDITIONS", "PRESETS", "Corpus", "CorpusError", "Dataset", "FixedTargets", "Fold",
    "LearnedLabelsWeights", "Method", "Normaliser", "Settings", "extract", "load_corpus", "loso_folds", "prepare",
    "preset", "quick_mode", "read_iemocap", "reproduce", "set_seed", "train_job",
]
