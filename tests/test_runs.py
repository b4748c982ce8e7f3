"""A run directory holds jobs computed from one corpus, one set of features and one setup, and nothing else."""

import gzip
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import tiny_settings, toy_dataset

from minisermeta import grid, pipeline, report
from minisermeta.corpora import read_iemocap
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.folds import loso_folds
from minisermeta.grid import job_path, load_jobs, run_grid
from minisermeta.model import ModelConfig
from minisermeta.pipeline import reproduce

TINY = dict(max_epochs=1, patience=1, model=ModelConfig(fc_units=16, lstm_units=8))


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return load_synthemo(tmp_path_factory.mktemp("synthemo"), scale=0.02, seed=1, progress=False).root


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "minisermeta", *args], capture_output=True, text=True)


def _relabel(root: Path, turns: int = 3) -> Path:
    """Change the gold code of the first ``turns`` neutral turns of one evaluation file to anger."""
    path = sorted(root.glob("Session1/dialog/EmoEvaluation/*.txt"))[0]
    text, changed = path.read_text(), 0
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if changed < turns and re.match(r"^\[.*\]\t\S+\tneu\t", line):
            lines[i] = line.replace("\tneu\t", "\tang\t", 1)
            changed += 1
    assert changed == turns, "the fixture needs three neutral turns in the first dialog"
    path.write_text("".join(lines))
    return path


def test_a_run_reused_after_relabelling_is_refused(tiny_root, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_root, corpus)
    out = tmp_path / "run"
    reproduce(read_iemocap(corpus), preset_name="quick", conditions=["blstm_att"], out=out, n_jobs=2,
              progress=False, **TINY)
    run = json.loads((out / "run.json").read_text())
    assert set(run["data"]) == {"utterances", "gold", "votes", "truth", "frames"} and run["id"]
    _relabel(corpus)
    with pytest.raises(ValueError, match=r"computed from other data \(changed: gold\)"):
        reproduce(read_iemocap(corpus), preset_name="quick", conditions=["blstm_att"], out=out, n_jobs=2,
                  progress=False, **TINY)
    jobs = load_jobs(out)  # what was there is intact
    assert len(jobs) == 10 and all(job["run"] == run["id"] for job in jobs)


def test_a_foreign_job_is_refused_by_name(tiny_root, tmp_path):
    corpus = read_iemocap(tiny_root)
    reproduce(corpus, preset_name="quick", conditions=["blstm_att"], out=tmp_path / "a", n_jobs=2,
              progress=False, **TINY)
    reproduce(corpus, preset_name="quick", conditions=["w"], out=tmp_path / "b", n_jobs=2, progress=False,
              **{**TINY, "lr": 0.01})
    stray = next((tmp_path / "a" / "jobs" / "blstm_att").iterdir())
    (tmp_path / "b" / "jobs" / "blstm_att").mkdir()
    shutil.copy(stray, tmp_path / "b" / "jobs" / "blstm_att" / stray.name)
    with pytest.raises(ValueError, match=rf"{stray.name} belongs to another run"):
        load_jobs(tmp_path / "b")


def test_job_files_are_compressed_and_a_broken_one_is_named(tmp_path):
    dataset = toy_dataset(per_speaker=8)
    fold = loso_folds(dataset.speakers)[0]
    run_grid(dataset, tmp_path, ["blstm_att"], [fold], [0], tiny_settings(max_epochs=1), n_jobs=1, progress=False)
    path = job_path(tmp_path, "blstm_att", fold, 0)
    assert path.name.endswith(".json.gz")
    with gzip.open(path, "rt") as file:
        assert json.load(file)["fold"] == fold.name
    grid.write_json(path, {})
    with pytest.raises(ValueError, match=rf"{path.name}: not a job result \(no condition, fold"):
        load_jobs(tmp_path)


CONCURRENT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from helpers import tiny_settings, toy_dataset
    from minisermeta.folds import loso_folds
    from minisermeta.grid import run_grid
    dataset = toy_dataset(per_speaker=8)
    ran = run_grid(dataset, {out!r}, ["blstm_att", "w"], loso_folds(dataset.speakers), [0],
                   tiny_settings(max_epochs=2), n_jobs=1, progress=False)
    print(json.dumps([str(p) for p in ran]))
""")


def test_two_runs_into_one_directory_train_every_job_once(tmp_path):
    script = CONCURRENT.format(tests=str(Path(__file__).parent), out=str(tmp_path))
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes)
    trained = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    assert not set(trained[0]) & set(trained[1])
    assert len(trained[0]) + len(trained[1]) == 12 == len(load_jobs(tmp_path))
    assert not list(tmp_path.rglob("*.lock")) and not list(tmp_path.rglob("*.tmp"))


def test_the_same_jobs_give_the_same_numbers_with_one_or_two_workers(tmp_path):
    """Jobs run one thread each with two workers and two threads with one: the same numbers to float tolerance."""
    dataset = toy_dataset(per_speaker=8)
    folds = loso_folds(dataset.speakers)[:2]
    for workers in (1, 2):
        run_grid(dataset, tmp_path / str(workers), ["L_w"], folds, [0], tiny_settings(max_epochs=2),
                 n_jobs=workers, progress=False)
    one, two = (sorted(load_jobs(tmp_path / str(w)), key=lambda j: j["fold"]) for w in (1, 2))
    for a, b in zip(one, two):
        assert a["test"]["pred"] == b["test"]["pred"]
        np.testing.assert_allclose(a["test"]["probs"], b["test"]["probs"], atol=1e-4)
        np.testing.assert_allclose(a["train"]["w"], b["train"]["w"], atol=1e-4)


def test_tables_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    dataset = toy_dataset(per_speaker=8)
    folds = loso_folds(dataset.speakers)[:2]
    run_grid(dataset, tmp_path, ["blstm_att", "L_w"], folds, [0], tiny_settings(max_epochs=1), n_jobs=1,
             progress=False)
    original = report.to_markdown

    def disk_full(table, *args, **kwargs):
        if "folds" in table.columns:  # the fold spread: fail half way through the tables
            raise OSError(28, "No space left on device")
        return original(table, *args, **kwargs)

    monkeypatch.setattr(report, "to_markdown", disk_full)
    with pytest.raises(OSError, match="No space left"):
        pipeline.write_tables(tmp_path)
    assert (tmp_path / "table2.md").stat().st_size > 0
    assert not (tmp_path / "table2_fold_spread.md").exists() and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("args, message", [
    (["--seeds", ""], "--seeds: no seed given"),
    (["--seeds", "0,0"], "--seeds: seed 0 given more than once"),
    (["--seeds", "-1"], "--seeds: seeds are integers >= 0, got -1"),
    (["--seeds", "x"], "--seeds: seeds are integers >= 0, got 'x'"),
    (["--conditions", ""], "no condition given"),
    (["--conditions", "L_w,L_w"], "given more than once"),
])
def test_cli_refuses_empty_or_repeated_seeds_and_conditions(tiny_root, tmp_path, args, message):
    done = _cli("reproduce", "--corpus", str(tiny_root), "--preset", "quick", "--out", str(tmp_path / "run"),
                *args)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "run" / "jobs").exists()


def test_cli_reports_expected_failures_in_one_line(tiny_root, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    done = _cli("reproduce", "--corpus", str(tiny_root), "--preset", "quick", "--out", str(a_file))
    assert done.returncode != 0 and "Traceback" not in done.stderr and str(a_file) in done.stderr
    scale = _cli("synthemo", "--out", str(tmp_path / "s"), "--scale", "inf")
    assert scale.returncode != 0 and "--scale" in scale.stderr and "Traceback" not in scale.stderr
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{not json")
    broken = _cli("reproduce", "--corpus", str(tiny_root), "--preset", "quick", "--out", str(run))
    assert broken.returncode != 0 and "run.json" in broken.stderr and "Traceback" not in broken.stderr


def test_lenient_skips_an_utterance_whose_features_cannot_be_extracted(tiny_root, tmp_path):
    import soundfile as sf

    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_root, corpus)
    wav = sorted(corpus.glob("Session1/sentences/wav/*/*.wav"))[0]
    sf.write(wav, np.full(160, 0.1, dtype=np.float32), 16_000)  # 10 ms: shorter than one analysis frame
    strict = _cli("reproduce", "--corpus", str(corpus), "--preset", "quick", "--conditions", "blstm_att",
                  "--out", str(tmp_path / "strict"), "--n-jobs", "2")
    assert strict.returncode != 0 and wav.name in strict.stderr and "Traceback" not in strict.stderr
    lenient = _cli("reproduce", "--corpus", str(corpus), "--preset", "quick", "--conditions", "blstm_att",
                   "--out", str(tmp_path / "lenient"), "--n-jobs", "2", "--lenient")
    assert lenient.returncode == 0, lenient.stderr
    assert "skipped 1 utterance(s) whose features cannot be extracted" in lenient.stderr and wav.name in lenient.stderr
    tested = sum(len(job["test"]["utterances"]) for job in load_jobs(tmp_path / "lenient"))
    assert tested == len(read_iemocap(corpus)) - 1


def test_lenient_reaches_the_generated_corpus_too(monkeypatch):
    from minisermeta import corpora
    from minisermeta.corpora import synthemo

    seen = []
    monkeypatch.setattr(synthemo, "generate", lambda root, *a, **k: root)
    monkeypatch.setattr(synthemo, "read_iemocap", lambda root, classes, strict: seen.append(strict))
    corpora.load_corpus("synthemo", strict=False)
    assert seen == [False]


def test_cli_says_which_file_a_read_only_disk_refused(tiny_root, tmp_path, monkeypatch, capsys):
    import errno

    from minisermeta import __main__ as cli
    from minisermeta import atomic

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", lambda dir, suffix: read_only(dir))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["reproduce", "--corpus", str(tiny_root), "--preset", "quick", "--conditions", "blstm_att",
                  "--out", str(tmp_path / "run"), "--n-jobs", "1"])
    assert "Read-only file system" in str(stopped.value) and str(tmp_path / "run") in str(stopped.value)
