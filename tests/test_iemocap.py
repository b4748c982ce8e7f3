import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import write_wav

from minisermeta.corpora import CorpusError, read_iemocap, speaker_of

# iemocap_tree has Session1, 3 and 5 only: the warning about the others is checked once, below
pytestmark = pytest.mark.filterwarnings("ignore:.*fewer leave-one-speaker-out folds:UserWarning")


@pytest.mark.parametrize(
    "utterance, speaker",
    [
        ("Ses01F_impro01_M003", "Ses01M"),
        ("Ses01F_impro01_F000", "Ses01F"),
        ("Ses03M_impro05a_F017", "Ses03F"),
        ("Ses05M_script01_1b_F000", "Ses05F"),
        ("Ses02M_script02_2_M044", "Ses02M"),
    ],
)
def test_speaker_is_the_last_part_of_the_id(utterance, speaker):
    assert speaker_of(utterance) == speaker


@pytest.mark.parametrize("bad", ["Ses01F", "foo_bar_baz", "Ses01F_impro01_X003"])
def test_speaker_of_rejects_other_ids(bad):
    with pytest.raises(ValueError):
        speaker_of(bad)


def test_paper_classes_exclude_excited_and_others(iemocap_tree):
    corpus = read_iemocap(iemocap_tree)
    table = corpus.table.set_index("utterance")
    assert sorted(table.index) == sorted(
        ["Ses01F_impro01_F000", "Ses01F_impro01_M003", "Ses03M_impro05a_F017", "Ses03M_impro05a_M001",
         "Ses05M_script01_1b_F000"]
    )
    assert table.loc["Ses01F_impro01_M003", "speaker"] == "Ses01M"
    assert table.loc["Ses03M_impro05a_F017", "speaker"] == "Ses03F"
    assert table.loc["Ses05M_script01_1b_F000", "speaker"] == "Ses05F"
    assert table.loc["Ses03M_impro05a_M001", "gold"] == "anger"
    assert corpus.skipped == []
    assert not corpus.has_truth


def test_merged_classes_count_excited_as_happiness(iemocap_tree):
    corpus = read_iemocap(iemocap_tree, classes="merged")
    table = corpus.table.set_index("utterance")
    assert table.loc["Ses01F_impro01_F001", "gold"] == "happiness"
    assert len(corpus) == 6


def test_votes_and_self_assessments_are_kept_apart(iemocap_tree):
    table = read_iemocap(iemocap_tree).table.set_index("utterance")
    assert table.loc["Ses01F_impro01_F000", "votes"] == ("neutral", "neutral", "neutral")
    assert table.loc["Ses01F_impro01_F000", "self_votes"] == ("neutral",)
    # an evaluator may tick several categories on one line
    assert table.loc["Ses01F_impro01_M003", "votes"] == ("happiness", "excited", "happiness", "neutral")
    assert table.loc["Ses01F_impro01_M003", "self_votes"] == ("happiness",)


def test_vote_distribution(iemocap_tree):
    paper = read_iemocap(iemocap_tree)
    row = paper.table.index[paper.table["utterance"] == "Ses01F_impro01_M003"][0]
    # happiness, sadness, neutral, anger; the excited vote is dropped in the paper set
    np.testing.assert_allclose(paper.vote_distribution()[row], [2 / 3, 0, 1 / 3, 0])
    merged = read_iemocap(iemocap_tree, classes="merged")
    row = merged.table.index[merged.table["utterance"] == "Ses01F_impro01_M003"][0]
    np.testing.assert_allclose(merged.vote_distribution()[row], [3 / 4, 0, 1 / 4, 0])
    assert np.allclose(paper.vote_distribution().sum(axis=1), 1)


def test_not_a_corpus(tmp_path):
    with pytest.raises(FileNotFoundError, match="EmoEvaluation"):
        read_iemocap(tmp_path)


def _wav(root, utterance="Ses03M_impro05a_F017"):
    return root / "Session3" / "sentences" / "wav" / "Ses03M_impro05a" / f"{utterance}.wav"


def _break_missing(path):
    path.unlink()


def _break_empty(path):
    path.write_bytes(b"")


def _break_corrupt(path):
    path.write_bytes(b"RIFF\x00\x00garbage-that-is-not-a-wav" * 4)


def _break_rate(path):
    write_wav(path, rate=8_000)


def _break_stereo(path):
    write_wav(path, channels=2)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_break_missing, "missing"),
        (_break_empty, "empty"),
        (_break_corrupt, "corrupt"),
        (_break_rate, "sample rate is 8000"),
        (_break_stereo, "2 channels"),
    ],
)
def test_bad_wav_is_named_or_skipped(iemocap_tree, damage, reason):
    wav = _wav(iemocap_tree)
    damage(wav)
    with pytest.raises(CorpusError, match=reason) as error:
        read_iemocap(iemocap_tree)
    assert str(wav) in str(error.value)

    with pytest.warns(UserWarning, match=reason):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert "Ses03M_impro05a_F017" not in set(corpus.table["utterance"])
    assert len(corpus) == 4
    assert len(corpus.skipped) == 1 and corpus.skipped[0].path == wav
    assert "skipped 1 problem" in corpus.summary()


def test_evaluation_line_that_does_not_parse(iemocap_tree):
    path = iemocap_tree / "Session3" / "dialog" / "EmoEvaluation" / "Ses03M_impro05a.txt"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if "Ses03M_impro05a_F017" in line)
    lines[number - 1] = "[3.1 - 4.2] Ses03M_impro05a_F017 sad"  # spaces instead of tabs, no v/a/d
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=f"Ses03M_impro05a.txt:{number}: turn line does not parse"):
        read_iemocap(iemocap_tree)
    with pytest.warns(UserWarning):
        corpus = read_iemocap(iemocap_tree, strict=False)
    # the broken turn and its votes are dropped, nothing else
    assert "Ses03M_impro05a_F017" not in set(corpus.table["utterance"])
    assert len(corpus) == 4


def test_unknown_code_is_reported(iemocap_tree):
    path = iemocap_tree / "Session5" / "dialog" / "EmoEvaluation" / "Ses05M_script01_1b.txt"
    path.write_text(path.read_text().replace("\tneu\t", "\tzzz\t"))
    with pytest.raises(CorpusError, match="unknown emotion code 'zzz'"):
        read_iemocap(iemocap_tree)


def test_audio_is_readable(iemocap_tree):
    corpus = read_iemocap(iemocap_tree)
    data, rate = sf.read(corpus.table["path"][0])
    assert rate == 16_000 and data.ndim == 1


# -- reliability: what the reader refuses, skips or warns about -------------------------------------------

SES03 = ("Session3", "dialog", "EmoEvaluation", "Ses03M_impro05a.txt")
PAPER_UTTERANCES = ["Ses01F_impro01_F000", "Ses01F_impro01_M003", "Ses03M_impro05a_F017", "Ses03M_impro05a_M001",
                    "Ses05M_script01_1b_F000"]


def _line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _float_wav(path, samples):
    sf.write(path, np.asarray(samples, dtype=np.float32), 16_000, subtype="FLOAT")


def _break_nan(path):
    samples = 0.3 * np.sin(np.arange(16_000) / 10)
    samples[8_000] = np.nan
    _float_wav(path, samples)


def _break_all_nan(path):
    _float_wav(path, np.full(16_000, np.nan))


def _break_inf(path):
    samples = 0.3 * np.sin(np.arange(16_000) / 10)
    samples[100] = np.inf
    _float_wav(path, samples)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_break_nan, "1 NaN or infinite sample.*first at 0.500 s"),
        (_break_all_nan, "16000 NaN or infinite sample"),
        (_break_inf, "1 NaN or infinite sample"),
    ],
)
def test_nan_or_inf_samples_are_refused_or_skipped(iemocap_tree, damage, reason):
    wav = _wav(iemocap_tree)
    damage(wav)
    with pytest.raises(CorpusError, match=reason) as error:
        read_iemocap(iemocap_tree)
    assert str(error.value).startswith(f"{wav}:") and "Ses03M_impro05a.txt:" in str(error.value)
    with pytest.warns(UserWarning, match=reason):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert "Ses03M_impro05a_F017" not in set(corpus.table["utterance"]) and len(corpus) == 4
    assert [s.path for s in corpus.skipped] == [wav]


def test_a_clean_float_wav_is_read_without_a_warning(iemocap_tree, recwarn):
    _float_wav(_wav(_complete(iemocap_tree)), 0.3 * np.sin(np.arange(16_000) / 10))  # with fact and PEAK chunks
    assert len(read_iemocap(iemocap_tree)) == 7 and [str(w.message) for w in recwarn] == []


def test_unreadable_wav_reports_the_os_error_not_corrupt(iemocap_tree, monkeypatch):
    wav = _wav(iemocap_tree)
    wav.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make opening this one file fail as it would for a user
        opener = Path.open

        def denied(self, *args, **kwargs):
            if self == wav:
                raise PermissionError(13, "Permission denied", str(self))
            return opener(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(CorpusError, match=r"cannot read wav file \(Permission denied\)") as error:
        read_iemocap(iemocap_tree)
    assert str(wav) in str(error.value) and "corrupt" not in str(error.value)
    with pytest.warns(UserWarning, match="Permission denied"):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert len(corpus) == 4 and [s.path for s in corpus.skipped] == [wav]


def _duplicate_in_one_file(root):
    path = root.joinpath(*SES03)
    block = path.read_text().split("\n\n")[1]  # the first turn block, Ses03M_impro05a_F017 (sad)
    path.write_text(path.read_text() + block + "\n\n")
    return path, path, "the same label"


def _conflicting_labels(root):
    path = root.joinpath(*SES03)
    block = path.read_text().split("\n\n")[1].replace("\tsad\t", "\tang\t")
    path.write_text(path.read_text() + block + "\n\n")
    return path, path, "labelled sadness there, anger here"


def _duplicate_across_files(root):
    from conftest import write_evaluation

    other = write_evaluation(root, 3, "Ses03M_impro05b", [("Ses03M_impro05a_F017", "neu", ["C-E1:\tNeutral;\t()"])])
    return root.joinpath(*SES03), other, "labelled sadness there, neutral here"


@pytest.mark.parametrize("duplicate", [_duplicate_in_one_file, _conflicting_labels, _duplicate_across_files])
def test_duplicate_utterance_names_both_places(iemocap_tree, duplicate):
    first, second, labels = duplicate(iemocap_tree)
    first_line = _line_of(first, "Ses03M_impro05a_F017")
    second_line = max(n for n, line in enumerate(second.read_text().splitlines(), 1) if "Ses03M_impro05a_F017" in line)
    with pytest.raises(CorpusError, match="appears twice") as error:
        read_iemocap(iemocap_tree)
    message = str(error.value)
    assert message.startswith(f"{second}:{second_line}: ") and f"first at {first}:{first_line}" in message
    assert labels in message
    with pytest.warns(UserWarning, match="appears twice"):
        corpus = read_iemocap(iemocap_tree, strict=False)
    table = corpus.table.set_index("utterance")
    assert sorted(table.index) == sorted(PAPER_UTTERANCES)  # counted once
    assert table.loc["Ses03M_impro05a_F017", "gold"] == "sadness"  # the first is kept
    assert [(s.path, s.line) for s in corpus.skipped] == [(second, second_line)]


def _write_truth(root, rows, header="utterance,speaker,truth,clarity"):
    path = root / "truth.csv"
    path.write_text(header + "\n" + "".join(row + "\n" for row in rows))
    return path


GOOD_TRUTH = [
    "Ses01F_impro01_F000,Ses01F,neutral,0.9",
    "Ses01F_impro01_M003,Ses01M,happiness,0.3",
    "Ses01F_impro01_F001,Ses01F,happiness,0.7",  # excited gold: not read, but its truth is checked too
    "Ses03M_impro05a_F017,Ses03F,sadness,0.8",
    "Ses03M_impro05a_M001,Ses03M,anger,0.95",
    "Ses05M_script01_1b_F000,Ses05F,neutral,0.5",
]


def test_truth_csv_is_joined(iemocap_tree):
    _write_truth(iemocap_tree, GOOD_TRUTH)
    corpus = read_iemocap(iemocap_tree)
    assert corpus.has_truth and corpus.skipped == []
    table = corpus.table.set_index("utterance")
    assert table.loc["Ses01F_impro01_M003", "truth"] == "happiness"
    assert table.loc["Ses03M_impro05a_M001", "clarity"] == 0.95
    assert list(corpus.label_index("truth")) == [2, 0, 1, 3, 2]


@pytest.mark.parametrize(
    "row, reason",
    [
        ("Ses03M_impro05a_F017,Ses03F,sadnes,0.8", "unknown emotion 'sadnes' in column truth"),
        ("Ses03M_impro05a_F017,Ses03F,excited,0.8", "unknown emotion 'excited'"),
        ("Ses03M_impro05a_F017,Ses03F,sadness,high", "clarity 'high' is not a number from 0 to 1"),
        ("Ses03M_impro05a_F017,Ses03F,sadness,1.5", "clarity '1.5' is not a number from 0 to 1"),
        ("Ses03M_impro05a_F017,Ses03F,sadness,nan", "clarity 'nan' is not"),
        ("Ses03M_impro05a_F017,Ses03F,sadness", "has 3 fields, the header 4"),
    ],
)
def test_bad_truth_row_is_named_by_line(iemocap_tree, row, reason):
    rows = list(GOOD_TRUTH)
    rows[3] = row
    path = _write_truth(iemocap_tree, rows)
    with pytest.raises(CorpusError, match=reason) as error:
        read_iemocap(iemocap_tree)
    assert str(error.value).startswith(f"{path}:5: ")
    with pytest.warns(UserWarning, match=reason):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert "Ses03M_impro05a_F017" not in set(corpus.table["utterance"]) and len(corpus) == 4
    assert [(s.path, s.line) for s in corpus.skipped] == [(path, 5)]  # not reported again as lacking a row


def test_duplicate_truth_row_names_both_lines(iemocap_tree):
    path = _write_truth(iemocap_tree, GOOD_TRUTH + ["Ses03M_impro05a_F017,Ses03F,anger,0.1"])
    with pytest.raises(CorpusError, match=f"appears twice, first at {path}:5") as error:
        read_iemocap(iemocap_tree)
    assert str(error.value).startswith(f"{path}:8: ")
    with pytest.warns(UserWarning, match="appears twice"):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert corpus.table.set_index("utterance").loc["Ses03M_impro05a_F017", "truth"] == "sadness"  # the first row
    assert len(corpus) == 5 and len(corpus.skipped) == 1


def test_utterance_without_a_truth_row(iemocap_tree):
    path = _write_truth(iemocap_tree, [row for row in GOOD_TRUTH if not row.startswith("Ses03M_impro05a_F017")])
    with pytest.raises(CorpusError, match=f"{path}: has no row for utterance Ses03M_impro05a_F017"):
        read_iemocap(iemocap_tree)
    with pytest.warns(UserWarning, match="has no row"):
        corpus = read_iemocap(iemocap_tree, strict=False)
    assert len(corpus) == 4 and len(corpus.skipped) == 1


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "truth.csv: is empty"),
        ("\n\n", "truth.csv: is empty"),
        ("utterance,speaker,clarity\nSes01F_impro01_F000,Ses01F,0.9\n", r"truth.csv:1: lacks the column\(s\) truth"),
    ],
)
def test_unusable_truth_file_raises_even_when_lenient(iemocap_tree, text, reason):
    (iemocap_tree / "truth.csv").write_text(text)
    for strict in (True, False):
        with pytest.raises(CorpusError, match=reason):
            read_iemocap(iemocap_tree, strict=strict)


# -- warnings: read, but worth a word ---------------------------------------------------------------------


def _read_warnings(root, **kwargs):
    with pytest.warns(UserWarning) as record:
        corpus = read_iemocap(root, **kwargs)
    return corpus, [str(w.message) for w in record]


def test_missing_sessions_warn_of_fewer_folds(iemocap_tree):
    corpus, messages = _read_warnings(iemocap_tree)  # the tree has Session1, 3 and 5 only
    assert messages == [f"{iemocap_tree}: no Session*/dialog/EmoEvaluation/*.txt file in Session2, Session4 "
                        "(IEMOCAP has Session1-Session5): fewer speakers, so fewer leave-one-speaker-out folds; "
                        "check that the copy is complete"]
    assert len(corpus.notes) == 1 and "1 warning(s)" in corpus.summary()


def _complete(root):
    """Add the two missing sessions, so that nothing else warns."""
    from conftest import write_evaluation

    write_evaluation(root, 2, "Ses02F_impro01", [("Ses02F_impro01_F000", "neu", ["C-E1:\tNeutral;\t()"])])
    write_evaluation(root, 4, "Ses04F_impro01", [("Ses04F_impro01_M000", "ang", ["C-E1:\tAnger;\t()"])])
    return root


def test_a_complete_clean_tree_reads_without_a_warning(iemocap_tree, recwarn):
    corpus = read_iemocap(_complete(iemocap_tree))
    assert len(corpus) == 7 and corpus.notes == [] and corpus.skipped == []
    assert [str(w.message) for w in recwarn] == []


def test_truncated_wav_warns_and_is_kept(iemocap_tree):
    wav = _wav(_complete(iemocap_tree))
    data = wav.read_bytes()
    wav.write_bytes(data[: len(data) // 2])  # the header still declares 16000 frames
    corpus, messages = _read_warnings(iemocap_tree)
    assert messages == [f"{wav}: wav data is truncated: the header declares 16000 frames (1.000 s), the file holds "
                        "7989 (0.499 s); the shorter audio is used, copy the file again if that is wrong"]
    assert "Ses03M_impro05a_F017" in set(corpus.table["utterance"]) and corpus.skipped == []


def test_silent_wav_warns_and_is_kept(iemocap_tree):
    wav = _wav(_complete(iemocap_tree))
    sf.write(wav, np.zeros(16_000), 16_000, subtype="PCM_16")
    corpus, messages = _read_warnings(iemocap_tree, strict=True)
    assert len(messages) == 1 and messages[0].startswith(f"{wav}: wav file is silent (every sample is 0)")
    assert len(corpus) == 7 and [n.path for n in corpus.notes] == [wav]


def test_empty_evaluation_file_warns(iemocap_tree):
    from conftest import HEADER

    path = _complete(iemocap_tree).joinpath(*SES03)
    path.write_text(HEADER)
    corpus, messages = _read_warnings(iemocap_tree)
    # the dialog's two wavs are now unlabelled too: one warning lists both
    assert messages[0] == (f"{path}: holds no turn: dialog Ses03M_impro05a contributes no utterance; "
                           "check that the file is complete")
    assert messages[1].startswith(f"{_wav(iemocap_tree, 'Ses03M_impro05a_F017')}: no evaluation file has a turn "
                                  "for this wav, so it is not used (nor 1 more such wav files")
    assert len(messages) == 2 and len(corpus) == 5 and len(corpus.notes) == 3


def test_wav_without_a_label_warns_once(iemocap_tree):
    extra = [_wav(iemocap_tree, f"Ses03M_impro05a_F0{k}") for k in (50, 51, 52)]
    for wav in extra:
        write_wav(wav)
    write_wav(extra[0].with_name("._Ses03M_impro05a_F050.wav"))  # macOS metadata beside it: ignored
    corpus, messages = _read_warnings(_complete(iemocap_tree))
    assert messages == [f"{extra[0]}: no evaluation file has a turn for this wav, so it is not used "
                        "(nor 2 more such wav files, in Corpus.notes); is an evaluation file missing?"]
    assert [n.path for n in corpus.notes] == extra and len(corpus) == 7


def test_byte_order_mark_is_read(iemocap_tree, recwarn):
    path = _complete(iemocap_tree).joinpath(*SES03)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    corpus = read_iemocap(iemocap_tree)
    assert len(corpus) == 7 and [str(w.message) for w in recwarn] == []


def test_synthemo_reads_exactly_and_without_a_warning(tmp_path, recwarn):
    from minisermeta.corpora.synthemo import generate

    root = generate(tmp_path / "tiny", scale=0.02, seed=0, n_jobs=1, progress=False)
    corpus = read_iemocap(root)
    assert [str(w.message) for w in recwarn] == [] and corpus.notes == [] and corpus.skipped == []
    truth = pd.read_csv(root / "truth.csv").set_index("utterance")
    table = corpus.table.set_index("utterance")
    assert (table["truth"] == truth.loc[table.index, "truth"]).all()
    assert (table["clarity"].to_numpy() == truth.loc[table.index, "clarity"].to_numpy()).all()  # bit for bit
