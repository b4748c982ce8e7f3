import numpy as np
import pytest
import soundfile as sf
from conftest import write_wav

from minisermeta.corpora import CorpusError, read_iemocap, speaker_of


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
