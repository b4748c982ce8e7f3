"""Leave-one-speaker-out folds: which speakers train, validate and test a job.

Folds sit below training (``train`` imports them); the grid of jobs sits above
it (``grid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpora.base import gender_of, session_of
from .dataset import Dataset


@dataclass(frozen=True)
class Fold:
    """One leave-one-speaker-out split, named by its test speaker."""

    test: str  # the held-out test speaker
    valid: str  # the validation speaker: the other speaker of the test speaker's session

    @property
    def name(self) -> str:
        """What a job result records as its ``fold``: the test speaker."""
        return self.test

    def split(self, dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices of the training, validation and test utterances."""
        train = dataset.indices_of(set(dataset.speakers) - {self.test, self.valid})
        return train, dataset.indices_of([self.valid]), dataset.indices_of([self.test])


def job_seed(seed: int, fold: Fold) -> int:
    """The seed of the job of grid seed ``seed`` on ``fold``: a hash of both (``Settings.fold_seeds``).

    The two folds of a session train on the same eight speakers; with one seed
    for both they would train the same network, epoch by epoch, and be one
    run counted twice. A seed per (seed, fold) makes every job its own draw.
    """
    return int(np.random.SeedSequence([int(seed), *fold.name.encode()]).generate_state(1)[0])


def loso_folds(speakers) -> list[Fold]:
    """One fold per speaker, validated on the session partner (IEMOCAP: Ses01F ↔ Ses01M).

    The paper validates on "the validation set" without naming it. Using the
    other speaker of the same session keeps the 8 training speakers disjoint
    from both held-out speakers and never trains on the test speaker's partner,
    whose dialogue turns share topic and recording conditions with the test
    speaker's. A speaker without a partner (a corpus without sessions, see
    ``corpora.session_of``) validates on the next speaker of the same gender in
    sorted order, wrapping round (``corpora.gender_of``), or on the next
    speaker where the gender is not known: deterministic, and as close to a
    partner as the corpus allows.
    """
    speakers = sorted({str(s) for s in speakers})
    if len(speakers) < 3:
        raise ValueError(f"leave-one-speaker-out needs at least 3 speakers, got {speakers}")
    folds = []
    for i, test in enumerate(speakers):
        partners = [s for s in speakers if s != test and session_of(s) == session_of(test)]
        following = speakers[i + 1:] + speakers[:i]
        alike = [s for s in following if gender_of(test) is not None and gender_of(s) == gender_of(test)]
        valid = (partners or alike or following)[0]
        folds.append(Fold(test=test, valid=valid))
    return folds
