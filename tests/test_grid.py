import gzip
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import tiny_settings, toy_dataset

from minisermeta import grid
from minisermeta.folds import Fold, loso_folds
from minisermeta.grid import job_path, load_jobs, run_grid

IEMOCAP_SPEAKERS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]


def test_loso_folds_validate_on_the_session_partner():
    folds = loso_folds(IEMOCAP_SPEAKERS)
    assert [f.test for f in folds] == sorted(IEMOCAP_SPEAKERS)
    assert {f.test: f.valid for f in folds}["Ses03M"] == "Ses03F"
    assert all(f.valid[:5] == f.test[:5] and f.valid != f.test for f in folds)


def test_split_keeps_speakers_apart():
    dataset = toy_dataset(per_speaker=8)
    for fold in loso_folds(dataset.speakers):
        train, valid, test = fold.split(dataset)
        assert set(dataset.speakers[test]) == {fold.test} and set(dataset.speakers[valid]) == {fold.valid}
        assert fold.test not in set(dataset.speakers[train]) and fold.valid not in set(dataset.speakers[train])
        assert len(train) + len(valid) + len(test) == len(dataset)


def test_a_speaker_without_partner_validates_on_another():
    folds = loso_folds(["Ses01F", "Ses01M", "Ses02F"])
    assert folds[2] == Fold(test="Ses02F", valid="Ses01F")
    with pytest.raises(ValueError, match="at least 3"):
        loso_folds(["Ses01F", "Ses01M"])


def test_grid_writes_one_json_per_job_and_skips_finished_ones(tmp_path, monkeypatch):
    dataset = toy_dataset(per_speaker=8)
    folds = loso_folds(dataset.speakers)[:2]
    settings = tiny_settings(max_epochs=1)
    run_grid(dataset, tmp_path, ["blstm_att", "w"], folds, [0], settings, n_jobs=1, progress=False)
    assert len(load_jobs(tmp_path)) == 4
    assert job_path(tmp_path, "w", folds[1], 0).is_file()

    calls = []
    def fake(dataset, jobs, settings, out, *args, **kwargs):
        calls.extend(jobs)
        paths = [job_path(out, c, f, s) for c, _, f, s in jobs]
        for path in paths:
            grid.write_json(path, {})
        return paths

    monkeypatch.setattr(grid, "_run_jobs", fake)
    ran = run_grid(dataset, tmp_path, ["blstm_att", "w"], folds, [0, 1], settings, n_jobs=1, progress=False)
    assert len(calls) == 4 and {c[3] for c in calls} == {1}  # only the new seed runs
    assert sorted(ran) == sorted(job_path(tmp_path, c, f, 1) for c in ("blstm_att", "w") for f in folds)


def test_a_grid_runs_seed_after_seed_so_that_a_stopped_one_leaves_whole_seeds(tmp_path, monkeypatch):
    dataset = toy_dataset(per_speaker=8)
    folds = loso_folds(dataset.speakers)[:2]
    calls = []
    def fake(dataset, jobs, settings, out, *args, **kwargs):
        calls.extend((c, f.test, s) for c, _, f, s in jobs)
        paths = [job_path(out, c, f, s) for c, _, f, s in jobs]
        for path in paths:
            grid.write_json(path, {})
        return paths

    monkeypatch.setattr(grid, "_run_jobs", fake)
    run_grid(dataset, tmp_path, ["blstm_att", "w"], folds, [0, 1], tiny_settings(), n_jobs=1, progress=False)
    assert [s for _, _, s in calls] == [0] * 4 + [1] * 4
    assert calls[:4] == [(c, f.test, 0) for c in ("blstm_att", "w") for f in folds]


def test_a_half_written_result_is_reported(tmp_path):
    path = tmp_path / "jobs" / "L" / "Ses01F_seed0.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b'{"condition": "L", "te'))
    with pytest.raises(ValueError, match="Ses01F_seed0.json.gz: not readable JSON"):
        load_jobs(tmp_path)


KILLED_RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from helpers import tiny_settings, toy_dataset
    from minisermeta.folds import loso_folds
    from minisermeta.grid import run_grid
    dataset = toy_dataset(per_speaker=8)
    run_grid(dataset, {out!r}, ["blstm_att", "L_w"], loso_folds(dataset.speakers), [0],
             tiny_settings(max_epochs=2), n_jobs=1, progress=False)
""")


def test_killing_a_run_loses_only_the_jobs_in_flight(tmp_path):
    script = KILLED_RUN.format(tests=str(Path(__file__).parent), out=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while len(list(tmp_path.glob("jobs/*/*.json.gz"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    process.kill()
    process.wait()
    finished = list(tmp_path.glob("jobs/*/*.json.gz"))
    assert 2 <= len(finished) < 12, "the run should be killed mid-grid"
    for path in finished:  # whatever was written is complete
        assert grid.read_json(path)["fold"] in path.name
    dataset = toy_dataset(per_speaker=8)
    ran = run_grid(dataset, tmp_path, ["blstm_att", "L_w"], loso_folds(dataset.speakers), [0],
                   tiny_settings(max_epochs=2), n_jobs=1, progress=False)
    assert len(ran) == 12 - len(finished)
    assert len(load_jobs(tmp_path)) == 12


def test_a_grid_shares_the_cores_out_among_the_jobs_it_runs_at_once(monkeypatch):
    from minisermeta.grid import threads_per_job

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert threads_per_job(2, 10) == 4  # two at a time
    assert threads_per_job(4, 1) == 8  # one job left: it takes every core
    assert threads_per_job(-1, 10) == 1  # one per core
    assert threads_per_job(1, 0) == 8


def test_slimming_keeps_the_learned_labels_and_the_run_finished(tmp_path, monkeypatch):
    from minisermeta import correction, report

    dataset = toy_dataset(per_speaker=8)
    folds = loso_folds(dataset.speakers)[:2]
    settings = tiny_settings(max_epochs=2)
    run_grid(dataset, tmp_path, ["L", "L_w"], folds, [0, 1], settings, n_jobs=1, progress=False)
    before = load_jobs(tmp_path)
    assert grid.slim_jobs(tmp_path, seeds={1}) == 4  # L and L_w on two folds
    after = load_jobs(tmp_path)
    assert grid.slim_jobs(tmp_path, seeds={1}) == 0
    for old, new in zip(before, after):
        assert ("s" in new["train"]) == (new["seed"] == 0) and ("labels" in new["train"]) == (new["seed"] == 1)
        np.testing.assert_array_equal(report.learned_labels(new["train"]), np.argmax(old["train"]["s"], axis=1))
    pd.testing.assert_frame_equal(report.label_moves(after, "L"), report.label_moves(before, "L"))
    both = [(old, new) for old, new in zip(before, after) if new["condition"] == "L_w" and new["seed"] == 1]
    for key, value in correction.distrust(both[0][0]).items():  # L + w's trust reads w, not s_n
        np.testing.assert_array_equal(correction.distrust(both[0][1])[key], value)
    slimmed_l = next(r for r in after if r["condition"] == "L" and r["seed"] == 1)
    with pytest.raises(ValueError, match="slimmed to its learned labels"):
        correction.distrust(slimmed_l)

    monkeypatch.setattr(grid, "_run_jobs", lambda *args, **kwargs: pytest.fail("a slimmed job ran again"))
    run_grid(dataset, tmp_path, ["L", "L_w"], folds, [0, 1], settings, n_jobs=1, progress=False)
