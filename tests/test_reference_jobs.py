"""The paper's conditions keep their numbers exactly across refactors (see ``reference_jobs.py``)."""

import numpy as np
import pytest
import reference_jobs


@pytest.fixture(scope="module")
def pairs():
    return list(zip(reference_jobs.load(), reference_jobs.compute()))


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(reference_jobs.CONDITIONS)))
def test_a_reference_job_reruns_to_the_same_numbers(pairs, index):
    before, now = pairs[index]
    assert (now["condition"], now["fold"], now["seed"]) == (before["condition"], before["fold"], before["seed"])
    assert now["test"]["pred"] == before["test"]["pred"]
    np.testing.assert_allclose(now["test"]["probs"], before["test"]["probs"], atol=2e-5)
    for key in ("initial_w", "w", "s"):
        np.testing.assert_allclose(now["train"][key], before["train"][key], atol=2e-5, err_msg=key)
    assert [(e["phase"], e["epoch"]) for e in now["epochs"]] == [(e["phase"], e["epoch"]) for e in before["epochs"]]
    for key in ("train_loss", "valid_loss"):
        np.testing.assert_allclose([e[key] for e in now["epochs"]], [e[key] for e in before["epochs"]],
                                   rtol=1e-5, err_msg=key)
