"""End to end on a tiny SynthEmo: the command line and ``reproduce``."""

import json
import subprocess
import sys

import pytest

from minisermeta import report
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.model import ModelConfig
from minisermeta.pipeline import corpus_location, reproduce

from helpers import tiny_settings

TINY = dict(max_epochs=1, patience=1, model=ModelConfig(fc_units=16, lstm_units=8))


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    return load_synthemo(tmp_path_factory.mktemp("synthemo"), scale=0.02, seed=1, progress=False)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "minisermeta", *args], capture_output=True, text=True)


def test_reproduce_writes_every_table_and_resumes(tiny_corpus, tmp_path, monkeypatch):
    out = tmp_path / "run"
    conditions = ["blstm_att", "L_w", "L"]
    tables = reproduce(tiny_corpus, preset_name="quick", conditions=conditions, out=out, n_jobs=1,
                       progress=False, **TINY)
    assert set(tables) == {"table2", "table2_fold_mean", "table2_beside_paper", "table2_fold_spread",
                           "table2_vs_truth", "table3", "fig3_label_moves", "label_fixes", "table2_paired",
                           "table2_paired_vs_truth", "epochs_kept", "intervals", "intervals_vs_truth"}
    assert len(list(out.glob("jobs/*/*.json.gz"))) == 3 * 10
    assert list(tables["table2"].index) == ["BLSTM + ATT", "BLSTM + ATT + L", "BLSTM + ATT + L + w"]
    assert (out / "table3.md").read_text().startswith("|")
    run = json.loads((out / "run.json").read_text())
    assert run["preset"] == "quick" and run["settings"]["max_epochs"] == 1

    from minisermeta import grid
    monkeypatch.setattr(grid, "_run_jobs", lambda *a, **k: pytest.fail("a finished job ran again"))
    again = reproduce(tiny_corpus, preset_name="quick", conditions=conditions, out=out, n_jobs=1,
                      progress=False, **TINY)
    assert again["table2"].equals(tables["table2"])

    with pytest.raises(ValueError, match="different preset, settings"):
        reproduce(tiny_corpus, preset_name="paper", conditions=conditions, out=out, progress=False)
    with pytest.raises(ValueError, match="unknown condition"):
        reproduce(tiny_corpus, conditions=["nope"], out=tmp_path / "other", progress=False)


def test_reproduce_runs_the_folds_of_the_test_speakers_asked_for(tiny_corpus, tmp_path):
    out = tmp_path / "run"
    reproduce(tiny_corpus, preset_name="quick", conditions=["blstm_att"], out=out, n_jobs=1, progress=False,
              test_speakers=["Ses01F", "Ses02M"], **TINY)
    assert sorted(p.name for p in out.glob("jobs/*/*.json.gz")) == ["Ses01F_seed0.json.gz", "Ses02M_seed0.json.gz"]
    with pytest.raises(ValueError, match=r"test speaker\(s\) \['Ses09F'\] are not speakers of the corpus"):
        reproduce(tiny_corpus, preset_name="quick", conditions=["blstm_att"], out=out, progress=False,
                  test_speakers=["Ses09F"], **TINY)


def test_a_run_directorys_tables_describe_all_its_jobs_whoever_ran_a_part(tiny_corpus, tmp_path):
    out, speakers = tmp_path / "run", ["Ses01F", "Ses02M"]
    reproduce(tiny_corpus, preset_name="quick", conditions=["blstm_att"], out=out, n_jobs=1, progress=False,
              test_speakers=speakers, **TINY)
    asked = reproduce(tiny_corpus, preset_name="quick", conditions=["L"], out=out, n_jobs=1, progress=False,
                      test_speakers=speakers, **TINY)
    assert list(asked["table2"].index) == ["BLSTM + ATT + L"]  # what was asked for

    def rows(csv: str) -> dict[str, str]:  # a table's rows by method, its header lines left out
        lines = csv.splitlines()
        return {line.split(",")[0]: line for line in lines[[l.split(",")[0] for l in lines].index("Method") + 1:]}

    written = rows((out / "table2.csv").read_text())
    assert list(written) == ["BLSTM + ATT", "BLSTM + ATT + L"]  # the whole run, baseline kept
    assert written["BLSTM + ATT + L"] == rows(asked["table2"].to_csv())["BLSTM + ATT + L"]
    assert (out / "table2_paired.csv").is_file()  # L against the baseline: a table of the run, not of the call


def test_corpus_location_moves_with_the_home_folder(tmp_path, monkeypatch):
    for machine in ("a", "b"):
        monkeypatch.setenv("MINISERMETA_HOME", str(tmp_path / machine))
        assert corpus_location(tmp_path / machine / "synthemo-scale0.25-seed0") == \
            "$MINISERMETA_HOME/synthemo-scale0.25-seed0"
    assert corpus_location(tmp_path / "IEMOCAP") == str((tmp_path / "IEMOCAP").resolve())


def test_cli_table1_and_features(tiny_corpus):
    table1 = _cli("table1", "--corpus", str(tiny_corpus.root))
    assert table1.returncode == 0, table1.stderr
    assert "| Ses05M" in table1.stdout and "| Total" in table1.stdout
    counts = report.table1(tiny_corpus).loc["Total"].sum()
    assert f"{len(tiny_corpus)} utterances" in table1.stderr and counts == len(tiny_corpus)
    features = _cli("features", "--corpus", str(tiny_corpus.root))
    assert features.returncode == 0, features.stderr
    assert f"{len(tiny_corpus)} utterances" in features.stdout and "× 32 paper32" in features.stdout


def test_cli_synthemo_and_clear_errors(tmp_path):
    made = _cli("synthemo", "--out", str(tmp_path / "s"), "--scale", "0.01", "--n-jobs", "1")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "s" / "synthemo.json").is_file()
    missing = _cli("table1", "--corpus", str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "nowhere: no such corpus folder or manifest" in missing.stderr
    assert "Traceback" not in missing.stderr
    named = _cli("table1", "--corpus", f"iemocap:{tmp_path}")  # a named reader says what its layout lacks
    assert named.returncode != 0 and "no Session*/dialog/EmoEvaluation" in named.stderr
    assert "Traceback" not in named.stderr


def test_cli_reproduce_prints_table2(tiny_corpus, tmp_path):
    done = _cli("reproduce", "--corpus", str(tiny_corpus.root), "--preset", "quick", "--conditions", "blstm_att",
                "--out", str(tmp_path / "run"), "--n-jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "Table 2" in done.stdout and "| BLSTM + ATT" in done.stdout
    assert len(list((tmp_path / "run" / "jobs" / "blstm_att").glob("*.json.gz"))) == 10


def test_threads_per_job_reach_every_job_and_the_plans_timed_epoch(tiny_corpus, tmp_path, monkeypatch):
    import os

    from minisermeta import estimate, grid

    trained, timed = [], []
    train_job = grid.train_job
    monkeypatch.setattr(grid, "train_job", lambda *a, threads=None, **k: trained.append(threads)
                        or train_job(*a, threads=threads, **k))
    monkeypatch.setattr(estimate, "epoch_seconds", lambda *a, threads=None, **k: timed.append(threads) or 1.0)
    run = dict(preset_name="quick", conditions=["blstm_att"], out=tmp_path / "run", n_jobs=1, progress=True, **TINY)
    reproduce(tiny_corpus, test_speakers=["Ses01F"], threads=1, **run)
    assert trained == timed == [1]
    reproduce(tiny_corpus, test_speakers=["Ses01M"], **run)  # a lone process's one job at a time: every core
    assert trained[1:] == timed[1:] == [os.cpu_count()]
    for wrong, error in ((dict(threads=0), "threads must be at least 1, got 0"),
                         (dict(threads=2, dask="local"), "on a Dask cluster each job takes one thread"),
                         (dict(test_speakers=[]), "test_speakers is empty")):
        with pytest.raises(ValueError, match=error):
            reproduce(tiny_corpus, **{"test_speakers": ["Ses02F"], **wrong}, **run)
    assert not (tmp_path / "run" / "jobs" / "blstm_att" / "Ses02F_seed0.json.gz").exists()
    done = _cli("reproduce", "--corpus", str(tiny_corpus.root), "--threads", "0")
    assert done.returncode == 2 and "--threads: must be a whole number of at least 1, got '0'" in done.stderr


def test_the_plan_counts_what_is_left_and_estimates_from_a_timed_epoch(dataset, monkeypatch):
    from minisermeta import estimate
    from minisermeta.folds import loso_folds
    from minisermeta.methods import resolve
    from minisermeta.pipeline import plan

    folds = loso_folds(dataset.speakers)
    methods = resolve(["blstm_att", "oversampling", "L_w_pretrained"])
    settings = tiny_settings(patience=2, max_epochs=40)
    monkeypatch.setattr(estimate, "epoch_seconds", lambda *args, **kwargs: 1.0)  # one epoch: 1 s, exactly
    text = plan(dataset, {"blstm_att": 6, "oversampling": 0, "L_w_pretrained": 6}, methods, folds, [0, 1], settings,
                "quick", n_jobs=2)
    assert text.startswith("Plan: 12 of 36 jobs to run (3 condition(s): blstm_att, oversampling, L_w_pretrained "
                           "x 6 folds x 2 seed(s)), preset quick, 2 at a")
    # 8 epochs a phase; the pretrained variant: a pretraining phase, then one with the l/w epoch's extra pass
    expected = (6 * 8 + 6 * 8 * (1 + methods["L_w_pretrained"].cost)) / 2
    assert f"about {estimate.describe(expected)}" in text
    over = estimate.job_seconds(dataset, methods["oversampling"], folds[0], settings, 1.0)
    assert over > estimate.job_seconds(dataset, methods["blstm_att"], folds[0], settings, 1.0)  # more utterances
    assert plan(dataset, {"blstm_att": 0}, methods, folds, [0], settings, "quick", 2).endswith("at a time.")
    assert estimate.describe(40) == "40 s" and estimate.describe(720) == "12 min" and estimate.describe(12600) == "3.5 h"


def test_the_default_grid_is_table_2_but_on_a_cpus_small_preset_the_method_its_baseline_and_its_control(
        dataset, monkeypatch):
    from minisermeta import estimate
    from minisermeta.folds import loso_folds
    from minisermeta.methods import LAPTOP_CONDITIONS, PAPER_CONDITIONS
    from minisermeta.pipeline import beyond, default_conditions

    assert default_conditions("paper") == default_conditions("quick") == tuple(PAPER_CONDITIONS)
    assert default_conditions("small") == LAPTOP_CONDITIONS == ("blstm_att", "smoothed", "L_w")
    # what the small preset's run says it left out: Table 2 in full, and the paper's network, each timed here
    timed = []
    monkeypatch.setattr(estimate, "epoch_seconds", lambda *args, **kwargs: timed.append(args[2]) or 1.0)
    text = beyond(dataset, loso_folds(dataset.speakers), [0], tiny_settings(), n_jobs=2)
    assert f"--conditions {','.join(PAPER_CONDITIONS)}" in text and "--preset paper" in text
    assert [s.model.lstm_units for s in timed] == [tiny_settings().model.lstm_units, 128]  # this preset, then the paper's


def test_epoch_seconds_times_a_real_epoch(dataset):
    from minisermeta import estimate
    from minisermeta.folds import loso_folds

    assert 0 < estimate.epoch_seconds(dataset, loso_folds(dataset.speakers)[0], tiny_settings()) < 60
