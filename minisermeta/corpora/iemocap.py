"""Reader for the IEMOCAP release layout (also what SynthEmo writes).

::

    ROOT/Session{1..5}/dialog/EmoEvaluation/<dialog>.txt
    ROOT/Session{1..5}/sentences/wav/<dialog>/<utterance>.wav

An evaluation file holds one block per turn::

    [6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
    C-E2:\tNeutral;\t()
    C-F1:\tNeutral;\t(curious)
    A-E3:\tval 3; act 2; dom  2;\t()

``C-E<k>`` lines are the evaluators' categorical votes, ``C-F1``/``C-M1`` the
actors' self-assessments (kept apart), ``A-`` lines dimensional ratings (not
used). The turn line's code is the gold label; ``xxx`` (no majority) and
classes outside the chosen class set are excluded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import soundfile as sf

from .base import CLASS_SETS, Corpus, Problems, canonical_label, speaker_of

SAMPLE_RATE = 16_000

TURN = re.compile(
    r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utterance>\S+)\t(?P<code>\w+)\t\[[^\]]*\]\s*$"
)
VOTE = re.compile(r"^C-(?P<who>[EFM])\d+:\t(?P<labels>[^\t]*)(\t.*)?$")
IGNORED = ("%", "A-", "[CATEGORICAL", "[ATTITUDE")


def _labels(field: str) -> tuple[str, ...]:
    """``'Frustration; Anger;'`` -> ``('frustration', 'anger')``; ``Other:...`` -> other."""
    names = []
    for part in field.split(";"):
        part = part.split(":")[0].strip()
        if part:
            names.append(canonical_label(part) or "other")
    return tuple(names)


def parse_evaluation(path: Path, problems: Problems) -> list[dict]:
    """The turns of one EmoEvaluation file: id, gold code, votes, self-votes."""
    turns: list[dict] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith(IGNORED):
            continue
        if line.startswith("["):
            match = TURN.match(line)
            if not match:
                problems.report(path, f"turn line does not parse: {line!r}", number)
                turns.append(None)  # votes until the next turn line belong to nothing
                continue
            gold = canonical_label(match["code"])
            if gold is None:
                problems.report(path, f"unknown emotion code {match['code']!r}", number)
                turns.append(None)
                continue
            turns.append(dict(utterance=match["utterance"], gold=gold, votes=[], self_votes=[]))
            continue
        match = VOTE.match(line)
        if not match:
            problems.report(path, f"line does not parse: {line!r}", number)
            continue
        if not turns:
            problems.report(path, "annotation line before any turn line", number)
            continue
        if turns[-1] is None:
            continue
        key = "votes" if match["who"] == "E" else "self_votes"
        turns[-1][key].extend(_labels(match["labels"]))
    return [t for t in turns if t is not None]


def check_wav(path: Path) -> str | None:
    """Why ``path`` is not a usable 16 kHz mono wav, or None if it is."""
    if not path.is_file():
        return "wav file is missing"
    if path.stat().st_size == 0:
        return "wav file is empty"
    try:
        info = sf.info(str(path))
    except Exception as error:  # soundfile raises several types for bad headers
        return f"wav file is corrupt ({error})"
    if info.samplerate != SAMPLE_RATE:
        return f"sample rate is {info.samplerate} Hz, expected {SAMPLE_RATE}"
    if info.channels != 1:
        return f"has {info.channels} channels, expected mono"
    if info.frames == 0:
        return "wav file has no samples"
    return None


def read_iemocap(root, classes: str = "paper", strict: bool = True) -> Corpus:
    """Read a corpus in the IEMOCAP release layout.

    ``classes`` is ``paper`` (excited kept apart and excluded, as in the paper)
    or ``merged`` (excited counted as happiness). With ``strict=False`` a bad
    wav or evaluation line is skipped with a warning and listed in
    ``Corpus.skipped`` instead of raising :class:`CorpusError`.
    """
    root = Path(root).expanduser().resolve()
    if classes not in CLASS_SETS:
        raise ValueError(f"unknown class set {classes!r}; choose from {sorted(CLASS_SETS)}")
    class_map = CLASS_SETS[classes]
    evaluations = sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt"))
    if not evaluations:
        raise FileNotFoundError(
            f"{root}: no Session*/dialog/EmoEvaluation/*.txt files; is this an IEMOCAP-layout corpus?"
        )
    problems = Problems(strict)
    rows = []
    for evaluation in evaluations:
        session_dir = evaluation.parents[2]
        dialog = evaluation.stem
        for turn in parse_evaluation(evaluation, problems):
            if turn["gold"] not in class_map:
                continue
            wav = session_dir / "sentences" / "wav" / dialog / f"{turn['utterance']}.wav"
            try:
                speaker = speaker_of(turn["utterance"])
            except ValueError as error:
                problems.report(evaluation, str(error))
                continue
            reason = check_wav(wav)
            if reason:
                problems.report(wav, reason)
                continue
            rows.append(
                dict(
                    utterance=turn["utterance"],
                    path=str(wav),
                    speaker=speaker,
                    session=speaker[:5],
                    gold=class_map[turn["gold"]],
                    votes=tuple(turn["votes"]),
                    self_votes=tuple(turn["self_votes"]),
                )
            )
    if not rows:
        raise ValueError(f"{root}: no utterance of the {classes!r} classes was found")
    table = pd.DataFrame(rows)
    truth = root / "truth.csv"
    if truth.is_file():
        table = _with_truth(table, truth, class_map)
    return Corpus(table, class_set=classes, root=root, skipped=problems.skipped)


def _with_truth(table: pd.DataFrame, path: Path, class_map: dict[str, str]) -> pd.DataFrame:
    """Join a simulated corpus's ``truth.csv`` (utterance, truth, clarity)."""
    truth = pd.read_csv(path)
    missing = {"utterance", "truth", "clarity"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path}: lacks columns {sorted(missing)}")
    truth["truth"] = truth["truth"].map(lambda t: class_map.get(t, t))
    joined = table.merge(truth[["utterance", "truth", "clarity"]], on="utterance", how="left")
    if joined["truth"].isna().any():
        raise ValueError(f"{path}: no truth for {joined.loc[joined['truth'].isna(), 'utterance'].iloc[0]}")
    return joined
