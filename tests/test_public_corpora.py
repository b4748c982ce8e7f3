"""The readers of EmoDB, CREMA-D, RAVDESS and manifests, on tiny corpora written in each one's own layout."""

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import write_wav
from minisermeta import paper, report
from minisermeta.corpora import (CorpusError, CorpusWarning, detect, gender_of, load_corpus, read_cremad,
                                 read_emodb, read_manifest, read_ravdess, session_of)
from minisermeta.folds import loso_folds
from minisermeta.model import ModelConfig


def quiet(read, *args, **kwargs):
    """Read, collecting the CorpusWarnings instead of showing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        corpus = read(*args, **kwargs)
    return corpus, [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]


# -- EmoDB ---------------------------------------------------------------------

EMODB = ["03a01Fa", "03a01Fb", "03a02Wa", "08a01Ta", "08b02Na", "09a05Wc", "10a01La", "11b03Ec", "16a02Fa"]


@pytest.fixture
def emodb(tmp_path):
    for name in EMODB:
        write_wav(tmp_path / "emodb" / "wav" / f"{name}.wav", seconds=0.2)
    return tmp_path / "emodb"


def test_emodb_reads_speaker_and_emotion_from_the_file_name(emodb):
    corpus, said = quiet(read_emodb, emodb)
    table = corpus.table.set_index("utterance")
    assert sorted(table.index) == sorted(set(EMODB) - {"10a01La", "11b03Ec"})  # boredom and disgust left out
    assert any("1 boredom, 1 disgust" in message for message in said)
    # second takes (the last letter) are utterances of their own
    assert table.loc["03a01Fa", "gold"] == table.loc["03a01Fb", "gold"] == "happiness"
    assert table.loc["03a02Wa", "gold"] == "anger" and table.loc["08a01Ta", "gold"] == "sadness"
    assert table.loc["08b02Na", "gold"] == "neutral"
    assert table.loc["03a01Fa", "speaker"] == "03M" and table.loc["08a01Ta", "speaker"] == "08F"
    assert table.loc["03a01Fa", "session"] == "03M"  # no sessions: a speaker is its own
    assert corpus.vote_distribution()[0].tolist() == [1, 0, 0, 0]  # no votes: the gold label


def test_emodb_names_a_file_that_does_not_parse(emodb):
    write_wav(emodb / "wav" / "03a01Xa.wav", seconds=0.2)
    with pytest.raises(CorpusError, match=r"03a01Xa\.wav: unknown emotion letter 'X'"):
        read_emodb(emodb)
    (emodb / "wav" / "03a01Xa.wav").rename(emodb / "wav" / "take1.wav")
    with pytest.raises(CorpusError, match=r"take1\.wav: not an EmoDB file name"):
        read_emodb(emodb)
    corpus, said = quiet(read_emodb, emodb, strict=False)
    assert len(corpus) == 7 and [s.path.name for s in corpus.skipped] == ["take1.wav"]


def test_emodb_refuses_audio_it_cannot_use(emodb):
    write_wav(emodb / "wav" / "12a01Wa.wav", seconds=0.2, rate=8000)
    with pytest.raises(CorpusError, match=r"12a01Wa\.wav: sample rate is 8000 Hz, expected 16000"):
        read_emodb(emodb)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        read_emodb(emodb / "missing")


def test_emodb_keeps_every_emotion_with_the_all_class_set(emodb):
    _, said = quiet(read_emodb, emodb)
    assert any("(classes='all' keeps them)" in message for message in said)
    corpus, said = quiet(read_emodb, emodb, classes="all")
    assert not said and len(corpus) == len(EMODB)
    # the paper's four first, at the indices the default gives them, then the other emotions the corpus labels
    assert corpus.classes == paper.EMOTIONS + ("boredom", "disgust")
    index = dict(zip(corpus.table["utterance"], corpus.label_index()))
    assert (index["03a01Fa"], index["08a01Ta"], index["03a02Wa"], index["10a01La"], index["11b03Ec"]) == (0, 1, 3, 4, 5)
    assert corpus.vote_distribution().shape == (len(EMODB), 6)
    assert list(report.table1(corpus).columns) == ["Happiness", "Sadness", "Neutral", "Anger", "Boredom", "Disgust"]
    assert corpus.subset([0]).classes == corpus.classes  # a subset without disgust still has its class


def test_emodb_reads_the_listeners_recognition_rates_as_agreement(emodb, tmp_path):
    (emodb / "recognition.csv").write_text("utterance,recognition,naturalness\n"
                                           "03a01Fa,90,80\n03a01Fb,65.5,70\n10a01La,100,90\n")
    corpus, said = quiet(read_emodb, emodb)
    agreement = dict(zip(corpus.table["utterance"], corpus.agreement()))
    assert agreement["03a01Fa"] == pytest.approx(0.9) and agreement["03a01Fb"] == pytest.approx(0.655)
    assert np.isnan(agreement["03a02Wa"])  # no row, no rate; boredom's row is of an utterance left out, no error
    assert corpus.vote_distribution()[0].tolist() == [1, 0, 0, 0]  # a rate is not votes: soft targets stay one-hot
    (tmp_path / "rates.csv").write_text("utterance,recognition\n08a01Ta,70\n")
    corpus, _ = quiet(read_emodb, emodb, recognition=tmp_path / "rates.csv")  # a file elsewhere, in its place
    agreement = dict(zip(corpus.table["utterance"], corpus.agreement()))
    assert agreement["08a01Ta"] == pytest.approx(0.7) and np.isnan(agreement["03a01Fa"])


@pytest.mark.parametrize("text, message", [
    ("utterance,recognition\n03a01Fa,120\n", r"recognition\.csv:2: recognition of 03a01Fa is 120; expected a perc"),
    ("utterance,recognition\n03a01Fa,80\n03a01Fb,\n", r"recognition\.csv:3: recognition of 03a01Fb is empty"),
    ("utterance,recognition\n03a01Fa,high\n", r"recognition\.csv:2: recognition of 03a01Fa is 'high'"),
    ("utterance,recognition\n03a01Fa,80\n03a01Fa,90\n", r"recognition\.csv:3: utterance 03a01Fa has a rate already"),
    ("utterance,recognition\n03a99Fa,80\n", r"recognition\.csv:2: utterance 03a99Fa has no wav file in .*wav"),
    ("utterance,rate\n03a01Fa,80\n", r"recognition\.csv: lacks the column\(s\) recognition"),
])
def test_emodb_names_the_bad_rows_of_its_recognition_rates(emodb, text, message):
    (emodb / "recognition.csv").write_text(text)
    with pytest.raises(CorpusError, match=message):
        quiet(read_emodb, emodb)


def test_emodb_s_bad_recognition_rates_are_skipped_when_lenient_and_shares_are_questioned(emodb):
    (emodb / "recognition.csv").write_text("utterance,recognition\n03a01Fa,120\n03a01Fb,0.9\n")
    corpus, said = quiet(read_emodb, emodb, strict=False)
    assert [s.line for s in corpus.skipped] == [2]
    assert any("are they shares? give them in percent" in message for message in said)


# -- CREMA-D -------------------------------------------------------------------

CREMAD = ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1001_IEO_DIS_LO", "1002_DFA_SAD_XX", "1002_ITS_NEU_XX",
          "1003_TIE_HAP_MD", "1091_WSI_ANG_LO"]


@pytest.fixture
def cremad(tmp_path):
    root = tmp_path / "CREMA-D"
    for name in CREMAD:
        write_wav(root / "AudioWAV" / f"{name}.wav", seconds=0.2)
    pd.DataFrame({"ActorID": [1001, 1002, 1003, 1091], "Age": [51, 21, 21, 29],
                  "Sex": ["Male", "Female", "Female", "Female"], "Race": "Caucasian",
                  "Ethnicity": "Not Hispanic"}).to_csv(root / "VideoDemographics.csv", index=False)
    # tabulatedVotes.csv as processFinishedResponses.R writes it: an unnamed row id, 100000 x query type + clip,
    # the six vote counts, the file name, ...; the face-only row (2xxxxx) must not be read as voice votes
    rows = [(100001, [6, 0, 0, 1, 2, 0], "1001_DFA_ANG_XX"), (200001, [0, 0, 0, 9, 0, 0], "1001_DFA_ANG_XX"),
            (100002, [0, 0, 0, 3, 6, 0], "1001_IEO_HAP_HI"), (100004, [0, 0, 0, 0, 1, 7], "1002_DFA_SAD_XX")]
    table = pd.DataFrame([[rid, *counts, name, sum(counts), max(counts) / sum(counts), "X"]
                          for rid, counts, name in rows],
                         columns=["", "A", "D", "F", "H", "N", "S", "fileName", "numResponses", "agreement",
                                  "emoVote"])
    (root / "processedResults").mkdir()
    table.to_csv(root / "processedResults" / "tabulatedVotes.csv", index=False)
    return root


def test_cremad_reads_actors_emotions_genders_and_voice_only_votes(cremad):
    corpus, said = quiet(read_cremad, cremad)
    table = corpus.table.set_index("utterance")
    assert sorted(table.index) == sorted(set(CREMAD) - {"1001_IEO_DIS_LO"})
    assert any("1 disgust" in message for message in said)
    assert table.loc["1001_DFA_ANG_XX", "speaker"] == "1001M" and table.loc["1091_WSI_ANG_LO", "speaker"] == "1091F"
    assert table.loc["1001_DFA_ANG_XX", "gold"] == "anger"  # the intended emotion, intensity XX (unspecified)
    assert table.loc["1001_DFA_ANG_XX", "votes"].count("anger") == 6  # the voice-only row, not the face row's 9 H
    assert table.loc["1001_DFA_ANG_XX", "votes"].count("happiness") == 1
    assert table.loc["1002_ITS_NEU_XX", "votes"] == ()  # a clip without ratings
    distribution = corpus.vote_distribution()[list(table.index).index("1001_IEO_HAP_HI")]
    assert distribution.tolist() == pytest.approx([3 / 9, 0, 6 / 9, 0])  # happiness, sadness, neutral, anger


def test_cremad_reads_votes_from_every_rating_too(cremad, tmp_path):
    ratings = pd.DataFrame({"localid": [1, 2, 3, 4], "queryType": [1, 1, 3, 1],
                            "clipName": ["1002_DFA_SAD_XX"] * 3 + ["1001_DFA_ANG_XX"],
                            "respEmo": ["S", "N", "H", "A"], "respLevel": 50})
    ratings.to_csv(tmp_path / "finishedResponses.csv", index=False)
    corpus, _ = quiet(read_cremad, cremad, votes=tmp_path / "finishedResponses.csv")
    table = corpus.table.set_index("utterance")
    assert table.loc["1002_DFA_SAD_XX", "votes"] == ("neutral", "sadness")  # the audio-visual rating left out
    assert table.loc["1001_DFA_ANG_XX", "votes"] == ("anger",)


def test_cremad_names_what_it_cannot_read(cremad):
    write_wav(cremad / "AudioWAV" / "1004_DFA_CAL_XX.wav", seconds=0.2)
    with pytest.raises(CorpusError, match=r"1004_DFA_CAL_XX\.wav: unknown emotion 'CAL'"):
        read_cremad(cremad)
    (cremad / "AudioWAV" / "1004_DFA_CAL_XX.wav").rename(cremad / "AudioWAV" / "1004_DFA_ANG_ZZ.wav")
    with pytest.raises(CorpusError, match="unknown intensity 'ZZ'"):
        read_cremad(cremad)
    (cremad / "AudioWAV" / "1004_DFA_ANG_ZZ.wav").unlink()
    (cremad / "AudioWAV" / "1076_MTI_SAD_XX.wav").write_bytes(b"")  # CREMA-D's own clip without audio
    with pytest.raises(CorpusError, match=r"1076_MTI_SAD_XX\.wav: wav file is empty"):
        read_cremad(cremad)
    pd.DataFrame({"ActorID": [1001], "Sex": ["Unknown"]}).to_csv(cremad / "VideoDemographics.csv", index=False)
    with pytest.raises(CorpusError, match=r"VideoDemographics\.csv:2: Sex is 'Unknown'"):
        read_cremad(cremad, strict=False)


# -- RAVDESS -------------------------------------------------------------------

RAVDESS = ["03-01-05-01-01-01-01", "03-01-03-02-02-01-01", "03-01-02-01-01-01-01", "03-01-04-01-01-02-02",
           "03-01-01-01-02-01-02", "03-02-05-01-01-01-03", "03-01-05-02-01-01-03", "03-01-03-01-01-01-04"]


@pytest.fixture
def ravdess(tmp_path):
    for name in RAVDESS:
        write_wav(tmp_path / "ravdess" / f"Actor_{name[-2:]}" / f"{name}.wav", seconds=0.2, rate=48_000)
    return tmp_path / "ravdess"


def test_ravdess_reads_speech_and_passes_over_song(ravdess):
    corpus, said = quiet(read_ravdess, ravdess)
    table = corpus.table.set_index("utterance")
    assert "03-02-05-01-01-01-03" not in table.index  # channel 02: song
    assert any("passed over 1 song" in message for message in said)
    assert "03-01-02-01-01-01-01" not in table.index and any("1 calm" in message for message in said)
    assert table.loc["03-01-05-01-01-01-01", "gold"] == "anger" and table.loc["03-01-03-02-02-01-01", "gold"] == \
        "happiness"
    assert table.loc["03-01-05-01-01-01-01", "speaker"] == "01M" and table.loc["03-01-04-01-01-02-02", "speaker"] == \
        "02F"  # odd actors are men, even ones women
    assert len(corpus) == 6


def test_ravdess_names_a_file_that_does_not_parse(ravdess):
    write_wav(ravdess / "Actor_01" / "03-01-09-01-01-01-01.wav", seconds=0.2, rate=48_000)
    with pytest.raises(CorpusError, match="unknown emotion code 09"):
        read_ravdess(ravdess)
    (ravdess / "Actor_01" / "03-01-09-01-01-01-01.wav").rename(ravdess / "Actor_01" / "03-01-05-01-01-01-02.wav")
    with pytest.raises(CorpusError, match="names actor 02 but lies in Actor_01"):
        read_ravdess(ravdess)
    (ravdess / "Actor_01" / "03-01-05-01-01-01-02.wav").rename(ravdess / "Actor_01" / "angry.wav")
    with pytest.raises(CorpusError, match=r"angry\.wav: not a RAVDESS file name"):
        read_ravdess(ravdess)


def test_ravdess_keeps_calm_with_the_all_class_set(ravdess):
    corpus, said = quiet(read_ravdess, ravdess, classes="all")
    assert corpus.classes == paper.EMOTIONS + ("calm",) and len(corpus) == 7
    assert corpus.table.set_index("utterance").loc["03-01-02-01-01-01-01", "gold"] == "calm"
    assert not any("left out" in message for message in said)


# -- manifests -----------------------------------------------------------------

def four_wav_manifest(tmp_path, text: str):
    """A manifest of ``text`` beside audio/a.wav … audio/d.wav."""
    for name in ("a", "b", "c", "d"):
        write_wav(tmp_path / "audio" / f"{name}.wav", seconds=0.2)
    (tmp_path / "corpus.csv").write_text(text)
    return tmp_path / "corpus.csv"


def test_a_manifest_reads_sessions_genders_and_votes(tmp_path):
    four_wav_manifest(
        tmp_path,
        "path,speaker,label,session,gender,votes\n"
        "audio/a.wav,kim,anger,s1,F,anger;anger;neutral\n"
        f"{tmp_path / 'audio' / 'b.wav'},lee,hap,s1,m,\n"
        "audio/c.wav,ada,sadness,s2,F,sad;neu\n"
        "audio/d.wav,bob,fear,s2,M,\n")
    corpus, said = quiet(read_manifest, tmp_path / "corpus.csv")
    table = corpus.table.set_index("utterance")
    assert list(table.index) == ["a", "b", "c"] and any("1 fear" in message for message in said)
    assert table.loc["a", "speaker"] == "s1/kimF" and table.loc["a", "session"] == "s1"
    assert table.loc["b", "gold"] == "happiness" and table.loc["b", "path"] == str(tmp_path / "audio" / "b.wav")
    assert table.loc["a", "votes"] == ("anger", "anger", "neutral") and table.loc["c", "votes"] == ("sadness",
                                                                                                    "neutral")


@pytest.mark.parametrize("row, message", [
    ("audio/a.wav,kim,joy", r"corpus\.csv:2: unknown emotion 'joy'"),
    ("audio/a.wav,,anger", r"corpus\.csv:2: empty speaker"),
    ("audio/a.wav,kim,anger,,X", r"corpus\.csv:2: gender is 'X'"),
    ("audio/missing.wav,kim,anger", r"missing\.wav: wav file is missing"),
])
def test_a_manifest_names_its_bad_rows(tmp_path, row, message):
    write_wav(tmp_path / "audio" / "a.wav", seconds=0.2)
    (tmp_path / "corpus.csv").write_text(f"path,speaker,label,session,gender\n{row}\n")
    with pytest.raises(CorpusError, match=message):
        read_manifest(tmp_path / "corpus.csv")


def test_a_manifest_needs_its_columns_and_unique_ids(tmp_path):
    (tmp_path / "corpus.csv").write_text("file,speaker,label\n")
    with pytest.raises(CorpusError, match="lacks the column.s. path"):
        read_manifest(tmp_path / "corpus.csv")
    write_wav(tmp_path / "x" / "a.wav", seconds=0.2)
    write_wav(tmp_path / "y" / "a.wav", seconds=0.2)
    (tmp_path / "corpus.csv").write_text("path,speaker,label\nx/a.wav,kim,anger\ny/a.wav,lee,anger\n")
    with pytest.raises(CorpusError, match=r"y/a\.wav: utterance id a is also .*x/a\.wav"):
        read_manifest(tmp_path / "corpus.csv")


def test_a_manifest_under_the_all_class_set_keeps_its_emotions_and_refuses_unknown_labels(tmp_path):
    four_wav_manifest(
        tmp_path,
        "path,speaker,label,votes\n"
        "audio/a.wav,kim,anger,anger;fear;other;surprise\n"
        "audio/b.wav,lee,fear,fear;calm\n"
        "audio/c.wav,ada,calm,\n"
        "audio/d.wav,bob,xxx,\n")
    corpus, said = quiet(read_manifest, tmp_path / "corpus.csv", classes="all")
    assert corpus.classes == paper.EMOTIONS + ("calm", "fear")
    assert list(corpus.table["utterance"]) == ["a", "b", "c"]  # xxx (no majority) is no emotion
    assert any("left out 1 xxx" in message and "keeps them" not in message for message in said)
    # votes outside the corpus's classes (other, surprise) are dropped
    assert corpus.vote_distribution()[:2].tolist() == [[0, 0, 0, 0.5, 0, 0.5], [0, 0, 0, 0, 0.5, 0.5]]
    (tmp_path / "corpus.csv").write_text("path,speaker,label\naudio/a.wav,kim,joy\n")
    with pytest.raises(CorpusError, match=r"corpus\.csv:2: unknown emotion 'joy'; use one of anger, boredom, calm"):
        read_manifest(tmp_path / "corpus.csv", classes="all")


# -- choosing the reader, and the folds of corpora without sessions -----------

def test_load_corpus_takes_a_name_or_tells_the_corpus_by_its_layout(emodb, cremad, ravdess, tmp_path):
    assert [detect(p) for p in (emodb, cremad, ravdess)] == ["emodb", "cremad", "ravdess"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        assert len(load_corpus(f"emodb:{emodb}")) == len(load_corpus(str(emodb))) == 7
        assert load_corpus(f"ravdess:{ravdess}").table["speaker"].iloc[0] == "01M"
    with pytest.raises(ValueError, match=r"cannot tell which corpus .*--corpus emodb:"):
        detect(tmp_path)


def test_folds_without_sessions_validate_on_the_next_speaker_of_the_same_gender():
    speakers = ["03M", "08F", "09F", "10M", "11M", "16F"]
    folds = {f.test: f.valid for f in loso_folds(speakers)}
    assert folds == {"03M": "10M", "08F": "09F", "09F": "16F", "10M": "11M", "11M": "03M", "16F": "08F"}
    assert [session_of(s) for s in ("Ses01F", "s1/kimF", "1001M")] == ["Ses01", "s1", "1001M"]
    assert [gender_of(s) for s in ("Ses01F", "03M", "spk1")] == ["F", "M", None]
    assert {f.test: f.valid for f in loso_folds(["a", "b", "c"])} == {"a": "b", "b": "c", "c": "a"}
    # with sessions, the partner first
    assert {f.test: f.valid for f in loso_folds(["s1/aF", "s1/bM", "s2/cF", "s2/dM"])}["s1/aF"] == "s1/bM"


def test_every_reader_s_table_trains_through_the_same_pipeline(emodb):
    """The reader's table is the library's: features, dataset and folds take it as they take SynthEmo's."""
    from minisermeta.pipeline import prepare

    corpus, _ = quiet(read_emodb, emodb)
    dataset = prepare(corpus, progress=False)
    assert len(dataset) == len(corpus) and set(dataset.speakers) == {"03M", "08F", "09F", "16F"}
    assert all(np.isfinite(f).all() for f in dataset.frames)
    # 03M, the only man here, validates on the next speaker; the women on the next woman
    assert [f.valid for f in loso_folds(dataset.speakers)] == ["08F", "09F", "16F", "08F"]


def test_a_run_with_every_emotion_of_a_corpus_tabulates_every_class(tmp_path):
    """EmoDB read with ``classes="all"``: seven classes through features, training, the job files and the tables."""
    from minisermeta import grid
    from minisermeta.__main__ import build_parser
    from minisermeta.metrics import scores
    from minisermeta.pipeline import reproduce

    root = tmp_path / "emodb"
    names = [f"{speaker}a01{letter}a" for speaker in ("03", "08", "09", "10") for letter in "WLEAFTN"]
    for name in names:
        write_wav(root / "wav" / f"{name}.wav", seconds=0.2)
    pd.DataFrame({"utterance": names, "recognition": np.linspace(40, 100, len(names))}).to_csv(
        root / "recognition.csv", index=False)
    assert build_parser().parse_args(["reproduce", "--classes", "all"]).classes == "all"
    corpus, _ = quiet(load_corpus, f"emodb:{root}", classes="all")
    classes = ["Happiness", "Sadness", "Neutral", "Anger", "Boredom", "Disgust", "Fear"]
    assert corpus.classes == tuple(c.lower() for c in classes)

    out = tmp_path / "run"
    tables = reproduce(corpus, preset_name="quick", conditions=["blstm_att", "L_w"], out=out, n_jobs=1,
                       progress=False, test_speakers=["03M", "08F"], max_epochs=1, patience=1,
                       model=ModelConfig(fc_units=16, lstm_units=8))
    assert [c for c, measure in tables["table2"].columns if measure == "F1"] == classes
    assert list(tables["table3"].columns) == classes and tables["fig3_label_moves"].shape == (7, 7)
    beside = tables["table2_beside_paper"]
    assert np.isnan(beside.loc[("BLSTM + ATT", "paper"), ("Fear", "P")])  # the paper has no fear
    jobs = grid.load_jobs(out)
    assert all(job["classes"] == list(corpus.classes) for job in jobs)
    # UA is the mean recall over the run's seven classes
    baseline = [job for job in jobs if job["condition"] == "blstm_att"]
    ua = scores(np.concatenate([j["test"]["gold"] for j in baseline]),
                np.concatenate([j["test"]["pred"] for j in baseline]), 7)["ua"]
    assert tables["table2"].loc["BLSTM + ATT", ("", "UA")] == pytest.approx(100 * ua)
    # the listeners' recognition rates are the agreement w is compared with: every training utterance has one
    agreement, rank = report.by_agreement(jobs, corpus)
    assert rank["utterances"] == agreement["utterances"].sum() == len(names)
