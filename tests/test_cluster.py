"""The grid on a real Dask cluster (a ``distributed.LocalCluster`` of worker processes): the same jobs, the same numbers."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import tiny_settings, toy_dataset, without_timing

from minisermeta.folds import loso_folds
from minisermeta.grid import dask_cluster, job_path, load_jobs, run_grid

CONDITIONS = ["blstm_att", "L_w"]


def jobs_by_key(out):
    return {(j["condition"], j["fold"], j["seed"]): without_timing(dict(j, run=None)) for j in load_jobs(out)}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The tiny grid on local joblib processes, one thread per job: what every cluster run must equal."""
    dataset, out = toy_dataset(per_speaker=12), tmp_path_factory.mktemp("local")
    folds = loso_folds(dataset.speakers)
    run_grid(dataset, out, CONDITIONS, folds, [0], tiny_settings(max_epochs=3), n_jobs=2, progress=False, threads=1)
    return dataset, folds, jobs_by_key(out)


def test_a_grid_on_a_local_dask_cluster_gives_the_local_run(local_run, tmp_path):
    dataset, folds, expected = local_run
    start = time.perf_counter()
    with dask_cluster("local:2") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        trained = run_grid(dataset, tmp_path, CONDITIONS, folds, [0], tiny_settings(max_epochs=3), n_jobs=-1,
                           progress=False, threads=1)
        pids = set(client.run(os.getpid).values())
    assert os.getpid() not in pids  # the jobs ran in the cluster's worker processes
    assert len(trained) == len(expected) and jobs_by_key(tmp_path) == expected
    print(f"tiny grid on a 2-worker LocalCluster: {time.perf_counter() - start:.1f} s")


def test_a_killed_worker_loses_only_its_job_and_the_grid_completes(local_run, tmp_path):
    dataset, folds, expected = local_run
    with dask_cluster("local:2") as client:
        victim, pid = next(iter(client.run(os.getpid).items()))
        killed = {}

        def kill_when_the_first_job_is_written():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(tmp_path.glob("jobs/*/*.json.gz")):
                time.sleep(0.01)
            killed["done before"] = len(list(tmp_path.glob("jobs/*/*.json.gz")))
            os.kill(pid, signal.SIGKILL)  # the worker process dies mid-grid; its nanny starts a new one

        killer = threading.Thread(target=kill_when_the_first_job_is_written)
        killer.start()
        run_grid(dataset, tmp_path, CONDITIONS, folds, [0], tiny_settings(max_epochs=3), n_jobs=-1, progress=False,
                 threads=1)
        killer.join()
    assert killed["done before"] < len(expected)  # it died while the grid ran
    assert jobs_by_key(tmp_path) == expected  # every job whole, the same numbers as the local run
    assert not list(tmp_path.rglob("*.tmp"))
    run_grid(dataset, tmp_path, CONDITIONS, folds, [0], tiny_settings(max_epochs=3), n_jobs=1, progress=False)
    assert jobs_by_key(tmp_path) == expected  # a rerun finds nothing to do


def test_the_cli_runs_the_grid_on_a_cluster(tmp_path, monkeypatch):
    from minisermeta.corpora.synthemo import load_synthemo

    monkeypatch.setenv("MINISERMETA_HOME", str(tmp_path / "home"))
    root = load_synthemo(tmp_path / "synthemo", scale=0.02, seed=1, progress=False).root
    result = subprocess.run([sys.executable, "-m", "minisermeta", "reproduce", "--corpus", str(root), "--preset",
                             "quick", "--conditions", "blstm_att", "--out", str(tmp_path / "run"), "--dask", "local:2"],
                            capture_output=True, text=True, env={**os.environ, "MINISERMETA_QUICK": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Table 2" in result.stdout and len(list((tmp_path / "run").glob("jobs/*/*.json.gz"))) == 10


def test_without_dask_installed_the_cluster_path_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(ImportError, match=r"pip install 'dask\[distributed\]'"):
        with dask_cluster("local:1"):
            pass
    with dask_cluster(None) as client:  # no cluster asked for: nothing needed
        assert client is None
