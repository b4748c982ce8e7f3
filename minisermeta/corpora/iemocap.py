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

What the reader refuses (strict: :class:`CorpusError` naming the file and line;
lenient: skipped, counted in ``Corpus.skipped``, with a warning): a turn or
vote line that does not parse, an unknown emotion code, an utterance id that
appears twice (in one evaluation file or across two), a wav that is missing,
unreadable, corrupt, not 16 kHz mono, empty, or holding NaN/infinite samples,
and a bad row of a simulated corpus's ``truth.csv``. What it reads with a
:class:`CorpusWarning` (listed in ``Corpus.notes``): an evaluation file without
any turn, a missing session, a wav that no evaluation file labels, a wav whose
data is shorter than its header says, and an all-zero (silent) wav.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .base import (Corpus, CorpusError, CorpusWarning, Problems, canonical_label, check_classes, session_of,
                   speaker_of)

SAMPLE_RATE = 16_000

TURN = re.compile(
    r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utterance>\S+)\t(?P<code>\w+)\t\[[^\]]*\]\s*$"
)
VOTE = re.compile(r"^C-(?P<who>[EFM])\d+:\t(?P<labels>[^\t]*)(\t.*)?$")
IGNORED = ("%", "A-", "[CATEGORICAL", "[ATTITUDE")
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")  # the only wav sample formats that can hold NaN or inf
SHORT_SUBTYPES = ("PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW")  # read as int16 without a conversion cost
TRUTH_COLUMNS = ("utterance", "truth", "clarity")


def _todo(problems: Problems, action: str) -> str:
    """What to do about a problem: ``action``, and when reading strictly, the way to skip it."""
    return f"{action}, or read with strict=False (--lenient) to skip it" if problems.strict else action


def _labels(field: str) -> tuple[str, ...]:
    """``'Frustration; Anger;'`` -> ``('frustration', 'anger')``; ``Other:...`` -> other."""
    names = []
    for part in field.split(";"):
        part = part.split(":")[0].strip()
        if part:
            names.append(canonical_label(part) or "other")
    return tuple(names)


def parse_evaluation(path: Path, problems: Problems) -> list[dict]:
    """The turns of one EmoEvaluation file: id, gold code, votes, self-votes, turn line number.

    A UTF-8 byte-order mark is ignored; a file without a single turn line gets a
    warning, since its whole dialog contributes nothing.
    """
    turns: list[dict] = []
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        problems.report(path, f"cannot read evaluation file ({error.strerror or error}); "
                              + _todo(problems, "check its permissions"))
        return []
    turn_lines = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith(IGNORED):
            continue
        if line.startswith("["):
            turn_lines += 1
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
            turns.append(dict(utterance=match["utterance"], gold=gold, votes=[], self_votes=[], line=number))
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
    if not turn_lines:
        problems.note(path, f"holds no turn: dialog {path.stem} contributes no utterance; "
                            "check that the file is complete")
    return [t for t in turns if t is not None]


def _declared_frames(file) -> int | None:
    """The frames a RIFF/WAVE file's data chunk header declares; None for other formats or an unknown length.

    Reads only the chunk headers of the open binary ``file``.
    """
    if file.read(4) != b"RIFF" or not file.read(4) or file.read(4) != b"WAVE":
        return None
    block_align = 0
    while len(head := file.read(8)) == 8:
        chunk, size = head[:4], int.from_bytes(head[4:], "little")
        if chunk == b"fmt " and size >= 14:
            block_align = int.from_bytes(file.read(14)[12:14], "little")
            file.seek(size - 14 + (size & 1), 1)
            continue
        if chunk == b"data":
            # 0xFFFFFFFF (and 0) is what streaming writers put when they do not know the length yet
            return size // block_align if block_align and size not in (0, 0xFFFFFFFF) else None
        file.seek(size + (size & 1), 1)
    return None


def inspect_wav(path: Path, rates=(SAMPLE_RATE,)) -> tuple[str | None, list[str]]:
    """Why ``path`` is not a usable mono wav at one of ``rates`` (16 kHz; None if it is), and what is odd about it.

    The samples are read (about twice the cost of reading the header alone):
    float samples must all be finite. Usable but odd, and returned as remarks:
    data shorter than the header declares (soundfile silently reports the
    frames actually there), and an all-zero recording.
    """
    if not path.is_file():
        return "wav file is missing", []
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size == 0:
                return "wav file is empty", []
            declared = _declared_frames(file)
    except OSError as error:  # e.g. permission denied: say so, not "corrupt"
        hint = ": check its permissions" if isinstance(error, PermissionError) else ""
        return f"cannot read wav file ({error.strerror or error}){hint}", []
    import soundfile as sf  # here, not at the top: training on cached features needs no audio library

    try:
        with sf.SoundFile(str(path)) as file:
            rate, channels, frames, subtype = file.samplerate, file.channels, file.frames, file.subtype
            if rate not in rates:
                return f"sample rate is {rate} Hz, expected {' or '.join(map(str, rates))}", []
            if channels != 1:
                return f"has {channels} channels, expected mono", []
            if frames == 0:
                return "wav file has no samples", []
            dtype = "float64" if subtype in FLOAT_SUBTYPES else "int16" if subtype in SHORT_SUBTYPES else "int32"
            samples = file.read(dtype=dtype)
    except Exception as error:  # soundfile raises several types for bad headers
        return f"wav file is corrupt ({getattr(error, 'error_string', None) or error})", []
    if subtype in FLOAT_SUBTYPES:
        bad = ~np.isfinite(samples)
        if bad.any():
            return (f"holds {int(bad.sum())} NaN or infinite sample(s), the first at "
                    f"{np.argmax(bad) / rate:.3f} s: the recording is damaged"), []
    remarks = []
    if declared is not None and declared > frames:
        remarks.append(
            f"wav data is truncated: the header declares {declared} frames ({declared / rate:.3f} s), "
            f"the file holds {frames} ({frames / rate:.3f} s); the shorter audio is used, "
            "copy the file again if that is wrong"
        )
    if not samples.any():
        remarks.append("wav file is silent (every sample is 0); its features are those of silence, "
                       "check the recording")
    return None, remarks


def read_iemocap(root, classes: str = "paper", strict: bool = True) -> Corpus:
    """Read a corpus in the IEMOCAP release layout.

    ``classes`` is ``paper`` (excited kept apart and excluded, as in the paper),
    ``merged`` (excited counted as happiness) or ``all`` (every emotion a turn's
    code names, ``oth`` and ``xxx`` excluded; ``base.classes_of``). With
    ``strict=False`` a bad wav or evaluation line is skipped with a warning and listed in
    ``Corpus.skipped`` instead of raising :class:`CorpusError`. Oddities that
    stop neither read (see the module docstring) are warned about with a
    :class:`CorpusWarning` and listed in ``Corpus.notes``.
    """
    root = Path(root).expanduser().resolve()
    class_map = check_classes(classes)
    evaluations = sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt"))
    if not evaluations:
        raise FileNotFoundError(
            f"{root}: no Session*/dialog/EmoEvaluation/*.txt files; is this an IEMOCAP-layout corpus?"
        )
    problems = Problems(strict)
    _note_missing_sessions(root, evaluations, problems)
    rows = []
    first: dict[str, tuple[Path, int, str]] = {}  # utterance -> where its turn was first seen, its gold
    for evaluation in evaluations:
        session_dir = evaluation.parents[2]
        dialog = evaluation.stem
        for turn in parse_evaluation(evaluation, problems):
            line = turn["line"]
            if turn["utterance"] in first:
                place, first_line, first_gold = first[turn["utterance"]]
                labels = ("the same label" if first_gold == turn["gold"]
                          else f"labelled {first_gold} there, {turn['gold']} here")
                problems.report(evaluation, f"utterance {turn['utterance']} appears twice, first at "
                                            f"{place}:{first_line} ({labels}); "
                                            + _todo(problems, "delete one of the two turns"), line)
                continue
            first[turn["utterance"]] = (evaluation, line, turn["gold"])
            if turn["gold"] not in class_map:
                continue
            wav = session_dir / "sentences" / "wav" / dialog / f"{turn['utterance']}.wav"
            try:
                speaker = speaker_of(turn["utterance"])
            except ValueError as error:
                problems.report(evaluation, str(error), line)
                continue
            reason, remarks = inspect_wav(wav)
            if reason:
                problems.report(wav, f"{reason} (the turn at {evaluation}:{line} needs it); "
                                     + _todo(problems, "replace the file"))
                continue
            for remark in remarks:
                problems.note(wav, remark)
            rows.append(
                dict(
                    utterance=turn["utterance"],
                    path=str(wav),
                    speaker=speaker,
                    session=session_of(speaker),
                    gold=class_map[turn["gold"]],
                    votes=tuple(turn["votes"]),
                    self_votes=tuple(turn["self_votes"]),
                )
            )
    _note_unlabelled_wavs(root, set(first), problems)
    if not rows:
        raise ValueError(f"{root}: no utterance of the {classes!r} classes was found")
    table = pd.DataFrame(rows)
    truth = root / "truth.csv"
    if truth.is_file():
        table = _with_truth(table, truth, class_map, problems)
        if table.empty:
            raise ValueError(f"{root}: no utterance of the {classes!r} classes has a valid row in {truth}")
    return Corpus(table, class_set=classes, root=root, skipped=problems.skipped, notes=problems.noted)


def _note_missing_sessions(root: Path, evaluations: list[Path], problems: Problems) -> None:
    """Warn when some of IEMOCAP's Session1-Session5 have no evaluation file: fewer speakers, fewer folds."""
    present = {evaluation.parts[-4] for evaluation in evaluations}
    missing = [f"Session{k}" for k in range(1, 6) if f"Session{k}" not in present]
    if missing:
        problems.note(root, f"no Session*/dialog/EmoEvaluation/*.txt file in {', '.join(missing)} (IEMOCAP has "
                            "Session1-Session5): fewer speakers, so fewer leave-one-speaker-out folds; "
                            "check that the copy is complete")


def _note_unlabelled_wavs(root: Path, labelled: set[str], problems: Problems) -> None:
    """List every wav that no evaluation file has a turn for (one warning for all of them)."""
    unlabelled = [wav for wav in sorted(root.glob("Session*/sentences/wav/*/*.wav"))
                  if wav.stem not in labelled and not wav.name.startswith(".")]  # ._x.wav: macOS metadata
    for wav in unlabelled:
        problems.note(wav, "no evaluation file has a turn for this wav, so it is not used", warn=False)
    if unlabelled:
        more = f" (nor {len(unlabelled) - 1} more such wav files, in Corpus.notes)" if len(unlabelled) > 1 else ""
        warnings.warn(f"{unlabelled[0]}: no evaluation file has a turn for this wav, so it is not used{more}; "
                      "is an evaluation file missing?", CorpusWarning, stacklevel=3)


def _truth_problem(utterance: str, truth: str, clarity: str, class_map: dict[str, str]) -> str | None:
    if not utterance.strip():
        return "has no utterance id"
    if truth not in class_map:
        return f"unknown emotion {truth!r} in column truth; expected one of {', '.join(class_map)}"
    try:
        value = float(clarity)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 1:  # NaN fails the comparison too
        return f"clarity {clarity!r} is not a number from 0 to 1"
    return None


def _with_truth(table: pd.DataFrame, path: Path, class_map: dict[str, str], problems: Problems) -> pd.DataFrame:
    """Join a simulated corpus's ``truth.csv`` (utterance, truth, clarity), checked row by row.

    An unreadable or empty file, or one lacking a column, raises
    :class:`CorpusError` even when lenient (every utterance's truth is in it).
    A bad row (wrong number of fields, unknown emotion, clarity outside 0-1, an
    utterance repeated) and an utterance without a row are problems naming the
    line; leniently the utterance is dropped (a repeated one keeps its first row).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            records = [(reader.line_num, row) for row in reader if row]
    except OSError as error:
        raise CorpusError(path, f"cannot read the truth file ({error.strerror or error})") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise CorpusError(path, f"is not a readable CSV file ({error}); regenerate the corpus") from None
    if not records:
        raise CorpusError(path, f"is empty; it needs a header with the columns {', '.join(TRUTH_COLUMNS)} and a row "
                                "per utterance: regenerate the corpus")
    header_line, header = records[0]
    missing = [column for column in TRUTH_COLUMNS if column not in header]
    if missing:
        raise CorpusError(path, f"lacks the column(s) {', '.join(missing)} (header: {','.join(header)}); "
                                "regenerate the corpus", header_line)
    where = [header.index(column) for column in TRUTH_COLUMNS]
    first_line: dict[str, int] = {}
    rejected: set[str] = set()  # utterances whose row was reported: not reported again as lacking one
    kept: dict[str, list] = {column: [] for column in TRUTH_COLUMNS}
    for line, row in records[1:]:
        if len(row) != len(header):
            problems.report(path, f"has {len(row)} fields, the header {len(header)}; " + _todo(problems, "fix the row"),
                            line)
            rejected.add(row[where[0]] if len(row) > where[0] else "")
            continue
        utterance, truth, clarity = (row[k] for k in where)
        if utterance in first_line:
            problems.report(path, f"utterance {utterance} appears twice, first at {path}:{first_line[utterance]}; "
                                  + _todo(problems, "delete one of the two rows"), line)
            continue
        first_line[utterance] = line
        problem = _truth_problem(utterance, truth, clarity, class_map)
        if problem:
            problems.report(path, f"{problem}; " + _todo(problems, "fix the row"), line)
            rejected.add(utterance)
            continue
        kept["utterance"].append(utterance)
        kept["truth"].append(class_map[truth])
        kept["clarity"].append(float(clarity))
    joined = table.merge(pd.DataFrame(kept), on="utterance", how="left")
    lacking = joined["truth"].isna()
    unreported = lacking & ~joined["utterance"].isin(rejected)
    for utterance, wav in joined.loc[unreported, ["utterance", "path"]].itertuples(index=False):
        problems.report(path, f"has no row for utterance {utterance} ({wav}); "
                        + _todo(problems, "regenerate the corpus"))
    return joined[~lacking].reset_index(drop=True) if lacking.any() else joined
