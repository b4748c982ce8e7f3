"""Utterances as arrays for training: packed frames, labels, and batches.

All frames of a corpus live in one ``(total_frames, dims)`` array with per
utterance offsets, so a grid of jobs shares it through joblib's memory
mapping instead of pickling a thousand small arrays per job.
"""

from __future__ import annotations

import hashlib
import lzma
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .atomic import write_atomically
from .corpora import Corpus
from .paper import EMOTIONS


@dataclass(frozen=True)
class Dataset:
    utterances: np.ndarray  # (N,) utterance ids
    speakers: np.ndarray  # (N,) speaker of each utterance
    gold: np.ndarray  # (N,) gold class index
    votes: np.ndarray  # (N, C) annotator vote proportions (soft targets)
    truth: np.ndarray | None  # (N,) true class index, simulated corpora only
    frames: np.ndarray  # (total_frames, dims) float32, all utterances back to back
    offsets: np.ndarray  # (N + 1,) start of each utterance in ``frames``
    classes: tuple[str, ...] = EMOTIONS  # (C,) the class of each label index: the corpus's ``Corpus.classes``

    def __post_init__(self):
        if len(self.classes) != self.votes.shape[1]:
            raise ValueError(f"{len(self.classes)} class names {self.classes} for {self.votes.shape[1]} vote columns")

    @classmethod
    def from_corpus(cls, corpus: Corpus, features: list[np.ndarray]) -> "Dataset":
        if len(features) != len(corpus):
            raise ValueError(f"{len(features)} feature arrays for {len(corpus)} utterances")
        lengths = np.array([len(f) for f in features])
        if (lengths == 0).any():
            empty = corpus.table["utterance"].iloc[int(np.argmax(lengths == 0))]
            raise ValueError(f"utterance {empty} has no feature frames")
        return cls(
            utterances=corpus.table["utterance"].to_numpy(dtype=str),
            speakers=corpus.table["speaker"].to_numpy(dtype=str),
            gold=corpus.label_index("gold"),
            votes=corpus.vote_distribution().astype(np.float32),
            truth=corpus.label_index("truth") if corpus.has_truth else None,
            frames=np.concatenate(features).astype(np.float32, copy=False),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            classes=corpus.classes,
        )

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def n_classes(self) -> int:
        return self.votes.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def fingerprint(self) -> dict[str, str]:
        """A short hash of each part jobs are computed from: utterances (ids, speakers), gold, votes, truth, frames.

        A run records it (``pipeline``) and refuses a dataset that differs in
        any part; the frames part covers the features' content, so another
        feature set, configuration or audio changes it. About 0.1 s per 100 MB of frames.
        """
        def digest(*arrays) -> str:
            hash = hashlib.blake2b(digest_size=8)
            for array in arrays:
                array = np.ascontiguousarray(array)
                hash.update(f"{array.dtype.str}{array.shape}".encode())
                hash.update(array.tobytes())
            return hash.hexdigest()

        return dict(utterances=digest(self.utterances, self.speakers), gold=digest(self.gold),
                    votes=digest(self.votes), truth="none" if self.truth is None else digest(self.truth),
                    frames=digest(self.frames, self.offsets))

    def save(self, path) -> None:
        """Write the dataset to one compressed file: train where the corpus and openSMILE are not (a GPU node).

        An ``.npz`` archive, LZMA-compressed (about a fifth smaller than
        ``np.savez_compressed``, so a scale-0.25 SynthEmo travels in 34 MB), with
        the frames stored as their four byte planes, which compress better than
        the floats as they are (the exponent bytes repeat).
        """
        planes = np.ascontiguousarray(self.frames, dtype="<f4").view(np.uint8).reshape(-1, 4).T
        arrays = dict(utterances=self.utterances, speakers=self.speakers, gold=self.gold, votes=self.votes,
                      frame_planes=planes, frames_shape=np.array(self.frames.shape), offsets=self.offsets,
                      classes=np.array(self.classes))
        if self.truth is not None:
            arrays["truth"] = self.truth
        def write(file) -> None:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_LZMA) as archive:
                for name, array in arrays.items():
                    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)

        write_atomically(Path(path), write, binary=True)

    @classmethod
    def load(cls, path) -> "Dataset":
        """A dataset written by :meth:`save`; its ``fingerprint()`` is the saved dataset's."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                a = {name: stored[name] for name in stored.files}
            planes, shape = a.pop("frame_planes"), tuple(a.pop("frames_shape"))
            frames = np.ascontiguousarray(planes.T).view("<f4").reshape(shape).astype(np.float32, copy=False)
            return cls(frames=frames, truth=a.pop("truth", None), classes=tuple(a.pop("classes").tolist()), **a)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as error:
            raise ValueError(f"{path} is not a dataset written by Dataset.save (or it is damaged): {error}") from None

    def features(self, indices) -> list[np.ndarray]:
        """The frame arrays of the given utterances (views, no copy)."""
        return [self.frames[self.offsets[i]:self.offsets[i + 1]] for i in indices]

    def with_frames(self, frames: np.ndarray) -> "Dataset":
        """The same utterances with transformed frames (e.g. normalised)."""
        if frames.shape[0] != self.frames.shape[0]:
            raise ValueError("transformed frames must keep the number of frames")
        return replace(self, frames=frames)

    def indices_of(self, speakers) -> np.ndarray:
        return np.flatnonzero(np.isin(self.speakers, list(speakers)))


def length_batches(indices: np.ndarray, lengths: np.ndarray, batch_size: int,
                   rng: np.random.Generator | None) -> list[np.ndarray]:
    """Batches of utterances of similar length, in random order.

    Sorting by length before cutting batches keeps padding small, so a batch
    costs what its frames cost. Sorting by a length jittered by up to 20 %, and
    shuffling the batch order, keeps batches different from epoch to epoch.
    With ``rng=None`` the order is deterministic (for inference).
    """
    indices = np.asarray(indices)
    jitter = 1 + 0.2 * rng.random(len(indices)) if rng is not None else 1.0
    ordered = indices[np.argsort(lengths[indices] * jitter, kind="stable")]
    batches = [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def collate(dataset: Dataset, batch: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded ``(B, T, dims)`` frames of a batch and their lengths."""
    lengths = dataset.lengths[batch]
    x = np.zeros((len(batch), lengths.max(), dataset.frames.shape[1]), dtype=np.float32)
    for row, (start, length) in enumerate(zip(dataset.offsets[batch], lengths)):
        x[row, :length] = dataset.frames[start:start + length]
    return torch.from_numpy(x).to(device), torch.from_numpy(lengths).to(device)
