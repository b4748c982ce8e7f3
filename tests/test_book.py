import hashlib
import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minisermeta import book, grid, pipeline, report, study
from minisermeta.corpora import Corpus
from minisermeta.folds import loso_folds
from minisermeta.methods import CONDITIONS
from minisermeta.settings import preset

from helpers import tiny_settings, toy_dataset

ROOT = Path(__file__).resolve().parents[1]


def test_setup_follows_quick_mode(monkeypatch):
    monkeypatch.setenv("MINISERMETA_QUICK", "1")
    quick = book.setup()
    assert (quick.quick, quick.scale, quick.preset, quick.seeds) == (True, 0.05, "quick", (0,))
    assert quick.run_dir.parts[-2] == "runs" and quick.run_dir.name.startswith("book-quick")
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    full = book.setup()
    assert (full.quick, full.scale, full.preset, full.seeds) == (False, 0.25, "paper", (0,))
    assert full.run_dir.parts[-2:] == ("results", "book-paper")
    assert "preset paper" in full.describe() and "training seed 0 (full mode)" in full.describe()


def test_repository_root_finds_the_book(tmp_path):
    assert book.repository_root(ROOT / "notebooks") == ROOT
    assert book.repository_root(tmp_path) == tmp_path.resolve()


def _fake_jobs(run_dir, seeds=(0,), conditions=book.BOOK_CONDITIONS):
    """A complete grid of tiny results on disk (toy data), one JSON per job."""
    from minisermeta.train import train_job

    dataset = toy_dataset(per_speaker=8, dims=3)
    settings = tiny_settings(max_epochs=1)
    folds = {f.test: f for f in loso_folds(dataset.speakers)}
    result = train_job(dataset, "L_w", folds["Ses01F"], settings=settings)
    grid.write_json(run_dir / "run.json", {"preset": "quick", "settings": asdict(preset("quick")), "id": "toy",
                                           "data": dataset.fingerprint()})
    for condition in conditions:
        method = CONDITIONS[condition]
        for fold in loso_folds(book.SPEAKERS):
            for seed in seeds:
                grid.write_json(grid.job_path(run_dir, condition, fold, seed),
                                {**result, "condition": condition, "method": method.describe(),
                                 "fold": fold.test, "seed": seed, "run": "toy"})


def test_results_load_a_complete_run_without_the_corpus(tmp_path, monkeypatch):
    setup = book.BookSetup(True, 0.05, 0, "quick", (0,), tmp_path / "run")
    assert not book.is_complete(setup)
    _fake_jobs(setup.run_dir)
    assert book.is_complete(setup)
    monkeypatch.setattr(book, "corpus", lambda *a, **k: pytest.fail("a complete run must not need the corpus"))
    before = sorted(setup.run_dir.rglob("*"))
    loaded = book.results(setup, conditions=["blstm_att", "L_w"])
    assert loaded.loaded and len(loaded.jobs) == 2 * 10
    assert {"table2", "table2_beside_paper", "table3", "fig3_label_moves", "label_fixes"} <= set(loaded.tables)
    assert list(loaded.tables["table2"].index) == ["BLSTM + ATT", "BLSTM + ATT + L + w"]
    assert sorted(setup.run_dir.rglob("*")) == before  # reading a committed run leaves its files as they are
    # a setup's own conditions are what it runs and loads by default: the study's grid has no soft-target row
    loaded = book.results(replace(setup, conditions=("blstm_att", "smoothed")))
    assert list(loaded.tables["table2"].index) == [CONDITIONS[c].title for c in ("blstm_att", "smoothed")]
    assert {path.parent.name for path in book.expected_jobs(book.study_setup(False))} == set(study.CONDITIONS)


def test_results_refuse_a_run_of_another_preset(tmp_path):
    setup = book.BookSetup(True, 0.05, 0, "quick", (0,), tmp_path / "run")
    _fake_jobs(setup.run_dir)
    run = json.loads((setup.run_dir / "run.json").read_text())
    run["settings"]["lr"] *= 10
    grid.write_json(setup.run_dir / "run.json", run)
    with pytest.raises(ValueError, match=r"different settings \(settings: lr\)"):
        book.results(setup)


def test_the_paper_study_reads_each_condition_s_whole_seeds(tmp_path, monkeypatch):
    """Chapter 9's verdict joins chapter 6's run (seed 0) to the seeds of results/study-paper, each condition on
    the seeds of which it has every job, and trains nothing in full mode."""
    chapter6 = book.BookSetup(False, 0.05, 0, "quick", (0,), tmp_path / "chapter6")
    more = replace(chapter6, seeds=(1, 2, 3), run_dir=tmp_path / "more")
    monkeypatch.setattr(book, "setup", lambda quick=None: chapter6)
    monkeypatch.setattr(book, "paper_study_setup", lambda: more)
    monkeypatch.setattr(book, "corpus", lambda *a, **k: pytest.fail("the paper study must not train"))
    with pytest.raises(ValueError, match="chapter 6's run .* is missing"):
        book.paper_study(quick=False)
    _fake_jobs(chapter6.run_dir)  # chapter 6's own conditions only, as yet
    with pytest.raises(ValueError, match=r"no whole seed of smoothed_pretrained, L_w_pretrained_gold at the paper "
                                         r"preset; run them with .*\['smoothed_pretrained', 'L_w_pretrained_gold'\]"):
        book.paper_study(quick=False)
    extra = ("smoothed_pretrained", "L_w_pretrained_gold")
    _fake_jobs(chapter6.run_dir, conditions=extra)  # as chapter 9 runs them beside chapter 6's
    _fake_jobs(chapter6.run_dir, seeds=(7,))  # a seed chapter 6's setup does not read
    run = book.paper_study(quick=False)  # study-paper not run yet: seed 0 alone
    assert {(r["condition"], r["seed"]) for r in run.jobs} == {(c, 0) for c in study.CONDITIONS}
    assert run.setup.seeds == (0,) and run.loaded
    _fake_jobs(more.run_dir, seeds=(1, 2, 3), conditions=[c for c in study.CONDITIONS if c not in extra])
    _fake_jobs(more.run_dir, seeds=(1,), conditions=extra)
    grid.job_path(more.run_dir, "L_w", loso_folds(book.SPEAKERS)[3], 2).unlink()  # L + w's seed 2 lacks a job
    run = book.paper_study(quick=False)
    seeds = {c: {r["seed"] for r in run.jobs if r["condition"] == c} for c in study.CONDITIONS}
    assert seeds == {c: {0, 1} if c in extra else {0, 1, 3} if c == "L_w" else {0, 1, 2, 3}
                     for c in study.CONDITIONS}
    assert len(run.jobs) == 10 * sum(map(len, seeds.values()))
    assert run.setup.seeds == (0, 1, 2, 3) and run.setup.preset == "quick"
    assert run["intervals"].loc[CONDITIONS["L_w"].title, "seeds"] == 3  # the tables are the jobs'
    run_json = grid.read_json(more.run_dir / "run.json")
    run_json["settings"]["lr"] *= 10
    grid.write_json(more.run_dir / "run.json", run_json)
    with pytest.raises(ValueError, match="different settings"):  # another preset's seeds are not mixed in
        book.paper_study(quick=False)
    monkeypatch.setattr(book, "results", lambda book_setup: book_setup)
    assert book.paper_study(quick=True) == book.study_setup(True)  # quick mode: the quick study, run if need be


@pytest.mark.parametrize("which", ["setup", "study_setup", "paper_study_setup"])
def test_the_committed_runs_match_today_s_presets(monkeypatch, which):
    """results/book-paper, study-small and study-paper are what the rendered book shows: whole runs of today's presets."""
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    full = getattr(book, which)()
    grows = which == "paper_study_setup"  # a seed at a time across sessions; book.paper_study reads whole seeds
    assert grows or book.is_complete(full), f"{full.run_dir.name} lacks jobs of the full mode's grid"
    pipeline.check_run(full.run_dir, preset=full.preset, settings=asdict(preset(full.preset, **full.overrides)),
                       classes="paper", feature_set="paper32")
    assert grid.read_json(full.run_dir / "run.json")["corpus"] == \
        f"$MINISERMETA_HOME/synthemo-scale{full.scale}-seed{full.corpus_seed}"
    jobs = grid.load_jobs(full.run_dir)  # each job checked to carry the run's id
    assert jobs and all(job["condition"] in CONDITIONS and job["seed"] in full.seeds for job in jobs)


def test_the_committed_paper_study_has_every_condition_on_whole_seeds(monkeypatch):
    """What chapter 9's verdict reads: every condition of the study at the paper preset, on seed 0 and the seeds
    after it that are whole (results/study-paper runs them in order)."""
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    run = book.paper_study()
    seeds = {c: sorted({r["seed"] for r in run.jobs if r["condition"] == c}) for c in study.CONDITIONS}
    assert all(found == list(range(len(found))) for found in seeds.values()), seeds
    assert max(map(len, seeds.values())) == len(study.SEEDS)


def test_the_committed_sweep_matches_today_s_settings(monkeypatch):
    """results/study-small-sweep* are what chapter 9 shows: complete runs of today's small preset per setting."""
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    full = book.study_setup()
    root = book.sweep_root(full)
    for name in study.SWEEP:  # every setting over the study's seeds: chapter 9 chooses on all five
        assert book.is_complete(replace(full, run_dir=study.sweep_dir(root, name)), ["L_w"]), name
    sweep = study.load_sweep(root, full.preset)  # each checked against its setting
    assert set(sweep) == set(study.SWEEP)
    # the other noises run the settings validation ranks highest at the default noise, as chapter 9 says
    ua = {name: study.validation_scores([r for r in jobs if r["condition"] == "L_w"])["UA"]
          for name, jobs in sweep.items()}
    assert set(book.NOISE_SETTINGS) == set(sorted(ua, key=ua.get)[-len(book.NOISE_SETTINGS):]), ua
    for scale, name in study.SCALES.items():  # scale 1 is the study's own run; the others, the study's seeds
        complete = book.is_complete(replace(full, run_dir=study.sweep_dir(root, name)), study.SCALE_CONDITIONS)
        assert complete or scale == 1.0, name
    for noise in set(study.NOISES) - {1.0}:
        noisy = book.sweep_root(full, noise)
        for name in book.NOISE_SETTINGS:
            conditions = [*book.NOISE_CONTROLS, "L_w"] if name == book.NOISE_SETTINGS[0] else ["L_w"]
            assert book.is_complete(replace(full, run_dir=study.sweep_dir(noisy, name), seeds=(0,)), conditions), name
        assert set(study.load_sweep(noisy, full.preset, {n: study.SWEEP[n] for n in book.NOISE_SETTINGS})) == \
            set(book.NOISE_SETTINGS)
    # at each noise, the setting the nested choice picks (on seed 0) and the controls repeated over more of the
    # study's seeds: whole seeds (ten folds each), the same at every noise, each with its controls beside it
    repeated = set()
    for noise, sweep in book.noise_sweeps(full, grid.load_jobs(full.run_dir)).items():
        chosen = {(r["fold"], r["seed"]) for name in set(study.nested_choice(sweep)[0].values())
                  for r in sweep[name] if r["condition"] == "L_w"}
        seeds = {seed for _, seed in chosen}
        assert len(chosen) == 10 * len(seeds) and seeds <= set(full.seeds), (noise, sorted(chosen))
        for control in book.NOISE_CONTROLS:  # the chosen L + w's every job has each control's beside it
            assert chosen <= {(r["fold"], r["seed"]) for r in sweep[book.NOISE_SETTINGS[0]] if r["condition"] == control}
        repeated.add(frozenset(seeds))
    assert len(repeated) == 1 and len(next(iter(repeated))) >= 2, repeated


def test_the_committed_comparison_methods_are_today_s_and_in_whole_seeds(monkeypatch):
    """Chapter 10 reads the comparison methods from results/study-small: seed 0 of each, every seed on all folds,
    each job made by today's method (its hyper-parameters and title)."""
    from minisermeta import comparison
    from minisermeta.methods import FORGET_RATES

    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    full = book.study_setup()
    conditions = {*comparison.COMPARED, *comparison.DISTRUSTING, *FORGET_RATES}
    assert book.is_complete(replace(full, seeds=(0,)), conditions)
    folds = {}
    for job in grid.load_jobs(full.run_dir):
        if job["condition"] in conditions:
            assert job["method"] == CONDITIONS[job["condition"]].describe(), job["condition"]
            folds.setdefault((job["condition"], job["seed"]), set()).add(job["fold"])
    partial = sorted(key for key, found in folds.items() if len(found) != 10)
    assert not partial, f"seeds without all ten folds: {partial}"
    jobs = book.other_methods(full)
    assert len(jobs) == sum(len(found) for found in folds.values())
    compared = comparison.compared(jobs)  # co-teaching: each session's jobs at its chosen forget rate
    seeds = {c: sorted({r["seed"] for r in compared if r["condition"] == c}) for c in comparison.COMPARED}
    assert all(found == [0, 1, 2, 3, 4] for found in seeds.values()), seeds  # chapter 10: "five seeds" each


def test_the_committed_noise_runs_hold_every_distrusting_method(monkeypatch):
    """Chapter 10's label correction at annotator noise 0 and 2 loads (runs nothing): each method of
    book.NOISE_METHODS on the ten folds, the same whole seeds at every noise, made by today's method."""
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    monkeypatch.setattr(pipeline, "reproduce", lambda *a, **k: pytest.fail("the committed runs are incomplete"))
    full = book.study_setup()
    found = book.noise_methods(full, book.other_methods(full))
    assert sorted(found) == sorted(study.NOISES)
    seeds = {c: sorted({r["seed"] for r in found[1.0] if r["condition"] == c}) for c in book.NOISE_METHODS}
    assert all(found[0] == 0 for found in seeds.values()), seeds
    assert all(seeds[c] == list(study.SEEDS) for c in ("L_w", "gce", "co_teaching_forget0.1")), seeds
    for noise, jobs in found.items():
        assert sorted((r["condition"], r["fold"], r["seed"]) for r in jobs) == sorted(
            (c, f.test, seed) for c in book.NOISE_METHODS for f in book.loso_folds(book.SPEAKERS) for seed in seeds[c])
        assert all(r["method"] == CONDITIONS[r["condition"]].describe() for r in jobs), noise


def test_the_saved_notebooks_show_the_full_mode(monkeypatch):
    """The book renders the outputs saved in the notebooks: each chapter's setup line must be the full mode's."""
    import nbformat

    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    for name in ("setup", "study_setup"):
        full = getattr(book, name)().describe()
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
            printed = [o.get("text", "") for c in cells if f"print({name}.describe()" in c.source for o in c.outputs]
            if any(f"print({name}.describe()" in c.source for c in cells):
                assert any(full in text for text in printed), f"{path.name} was last executed in another mode"


def test_every_notebook_fetches_the_repository_on_colab_and_reads_its_setup_from_the_library():
    import nbformat
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        first = cells[0].source
        # the clone brings results/book-paper along, so the full mode loads it instead of retraining
        assert f"git clone -q --depth 1 {url} " in first and "%cd /content/minisermeta/notebooks" in first, path
        assert "remove-input" in cells[0].metadata.get("tags", []), path
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        assert "book.setup()" in code or "book.study_setup()" in code or path.name == "05_labels_weights.ipynb", path


def test_worked_example_is_fixed_and_consistent():
    example = book.worked_example()
    np.testing.assert_allclose(example["w0"], [0.5, 0.5, 1.5, 1.5, 1.5, 0.5])
    np.testing.assert_allclose(example["s1"][0], [np.e / (np.e + 3)] + [1 / (np.e + 3)] * 3)
    np.testing.assert_allclose(example["loss"], example["ce"] / example["w0"])
    assert example["w_closed"].mean() == pytest.approx(1.0)
    assert np.argmax(example["w_closed"]) == 4  # the utterance the model contradicts most


def test_table3_initial_readings():
    table = book.table3_initial_on_paper_counts()
    np.testing.assert_allclose(table.iloc[0], [0.47, 0.86, 1.35, 0.87])
    np.testing.assert_allclose(table.iloc[1], table.iloc[2], atol=0.011)  # count / (N/C) is what the paper printed


def test_parameter_counts_total():
    from minisermeta.model import ModelConfig

    table = book.parameter_counts(ModelConfig())
    fc = 32 * 512 + 512
    lstm = 2 * 4 * 128 * (512 + 128 + 2)
    assert table.loc["fc", "parameters"] == fc
    assert table.loc["total", "parameters"] == fc + lstm + 256 + 256 * 4 + 4


def _toy_corpus(n=60, seed=0):
    rng = np.random.default_rng(seed)
    speakers = ["Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses03F", "Ses03M"]
    truth = rng.choice(["happiness", "sadness", "neutral", "anger"], n)
    table = pd.DataFrame({
        "utterance": [f"{s}_x_{s[-1]}{i:03d}" for i, s in enumerate(np.resize(speakers, n))],
        "path": "", "speaker": np.resize(speakers, n), "session": [s[:5] for s in np.resize(speakers, n)],
        "gold": truth, "votes": [(t,) * 3 for t in truth], "self_votes": [()] * n,
        "truth": truth, "clarity": rng.uniform(0, 1, n)})
    return Corpus(table)


def test_reannotate_noise_zero_is_the_truth_and_more_noise_more_errors():
    corpus = _toy_corpus(400)
    clean = book.reannotate(corpus, noise=0.0)
    assert len(clean) == 400 and (clean.table["gold"] == clean.table["truth"]).all()
    wrong = [np.mean(book.reannotate(corpus, noise=k).table.pipe(lambda t: t["gold"] != t["truth"]))
             for k in (1.0, 2.5)]
    assert 0 < wrong[0] < wrong[1]


# The reannotated utterances, votes and gold of _toy_corpus(400) (sha256, first 16 hex digits), computed by
# reannotate's own annotator loop before it called corpora.synthemo.annotate: the explorer's numbers must stay.
REANNOTATED = {(0.0, 0): "a93e00fbb37de468", (0.5, 0): "e5a881a178faa548", (1.0, 0): "b05cdde442ef3117",
               (1.0, 1): "47a046fe0d6f22c7", (2.0, 0): "c055c5ab90e4b74b", (2.0, 1): "c715c8bcb936d378",
               (2.5, 0): "abb344e345d143e6"}


def test_reannotate_draws_the_votes_it_always_drew():
    corpus = _toy_corpus(400)
    for (noise, seed), expected in REANNOTATED.items():
        found = book.reannotate(corpus, noise, seed).table
        content = [list(found["utterance"]), [list(v) for v in found["votes"]], list(found["gold"])]
        assert hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16] == expected, (noise, seed)


def test_experiment_runs_one_fold():
    corpus = _toy_corpus(60)
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(rng.integers(5, 15), 3)).astype(np.float32) for _ in range(len(corpus))]
    found = book.experiment(corpus, frames, "L_w", noise=1.0, label_scale=2.0, max_epochs=1,
                            model=tiny_settings().model, device="cpu")
    assert {"WA vs gold", "UA vs truth", "% gold wrong"} <= set(found["scores"].columns)
    assert found["result"]["settings"]["label_scale"] == 2.0
    assert "fixed" in found["fixes"].columns


def test_the_explorer_trains_on_the_cores_the_load_leaves_free(monkeypatch):
    from minisermeta import train

    class Stop(Exception):
        pass

    def record(*args, **kwargs):
        raise Stop(kwargs["threads"])

    monkeypatch.setattr(train, "free_cores", lambda: 1)
    monkeypatch.setattr(train, "train_job", record)
    with pytest.raises(Stop, match="1"):
        book.experiment(_toy_corpus(60), [np.zeros((5, 3), dtype=np.float32)] * 60)


def test_report_additions_on_toy_results(tmp_path):
    _fake_jobs(tmp_path)
    results = grid.load_jobs(tmp_path)
    weights = report.weights_vs_truth(results)
    assert list(weights.index) == ["gold right", "gold wrong"]
    flagged = report.flagged_utterances(results)
    assert flagged["w"].is_monotonic_decreasing and {"gold", "learned", "relabelled"} <= set(flagged.columns)
    effects = report.per_class_effects(report.table2(results))
    assert "BLSTM + ATT" not in effects.index and "Happiness F1" in effects.columns
    from minisermeta import widgets

    assert len(widgets.summary_counts(flagged)) == 4
    assert widgets.utterance_browser(flagged, k=3) is not None


def test_truth_vs_gold_counts_every_generated_utterance(tmp_path):
    from minisermeta.corpora.synthemo import all_turns, generate

    root = generate(tmp_path / "synthemo", scale=0.01, seed=0, n_jobs=1, progress=False)
    matrix = report.truth_vs_gold(root)
    assert list(matrix.index) == ["happiness", "sadness", "neutral", "anger"]
    turns = all_turns(root)
    assert matrix.to_numpy().sum() == len(turns)
    assert {"excited", "frustration"} & set(turns["gold"]) and set(turns["truth"]) <= set(matrix.index)
    noise = report.label_noise(root)
    assert noise.loc["all utterances", "utterances"] >= noise.loc["paper class set", "utterances"]
    # report takes the table as well as the root, and reads no file itself
    pd.testing.assert_frame_equal(report.truth_vs_gold(turns), matrix)
    pd.testing.assert_frame_equal(report.label_noise(turns), noise)


PAPER_ITEMS = ["Table 1", "Table 2", "Table 3", "Figure 1", "Figure 2", "Figure 3"]


@pytest.mark.slow
def test_book_builds_with_every_table_and_figure_of_the_paper(built_book):
    """`jupyter-book build` (warnings as errors, offline) and every table and figure of the paper in the HTML."""
    pages = {path.name: path.read_text() for path in built_book.rglob("*.html")}
    for item in PAPER_ITEMS:
        kind, number = item.split()
        # the book's captions name the paper's figures "the paper's Fig. 1" (its own are numbered Fig. 4.1, ...)
        name = r"(?:Figure|Fig\.)" if kind == "Figure" else kind
        holding = [page for page, html in pages.items() if re.search(rf"{name}\s{number}(?![.\d])", html)]
        assert holding, f"{item} is not in the built book"
        tag = "<table" if kind == "Table" else "<img"
        assert any(tag in pages[page] for page in holding), f"no {tag}> on the page of {item}"


def test_displayed_equations_are_numbered_and_referenced(built_book):
    """Every display equation has a label, so the book numbers it (5.1, ...), and the text links to it."""
    import nbformat

    texts = [path.read_text() for path in sorted((ROOT / "book").glob("*.md"))]
    texts += ["\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")
              for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    text = "\n".join(texts)
    labels = re.findall(r"\$\$ \((eq-[a-z-]+)\)", text)
    assert len(labels) == len(set(labels)) >= 5
    tails = re.findall(r"^\$\$.+?\$\$([^\n]*)", text, flags=re.S | re.M)  # what follows each display's closing $$
    assert len(tails) == len(labels), f"display equations without a label: {len(tails) - len(labels)}"
    pages = "".join(path.read_text() for path in built_book.rglob("*.html"))
    for label in labels:
        assert f'id="equation-{label}"' in pages and f"#equation-{label}" in pages, f"{label}: unnumbered or never cited"


def test_knob_explorer_builds_without_training(monkeypatch):
    from minisermeta import widgets

    monkeypatch.setattr(book, "experiment", lambda *a, **k: pytest.fail("building must not train"))
    corpus = _toy_corpus(30)
    assert widgets.knob_explorer(corpus, [np.zeros((3, 2))] * 30) is not None


def test_every_notebook_clones_the_repository_the_config_names():
    """The Colab buttons link to _config.yml's repository; each notebook's install cell must clone that one."""
    import nbformat
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        install = nbformat.read(path, as_version=4).cells[0].source
        clones = re.findall(r"git clone -q --depth 1 (\S+)", install)
        assert clones == [url], f"{path.name} clones {clones}, _config.yml names {url}"


def test_chapters_are_numbered_as_their_files():
    """The text says "chapter 6" for notebooks/06_*: the table of contents numbers chapters in file order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = [c["file"] for c in toc["parts"][0]["chapters"]]
    assert toc["parts"][0]["numbered"] and chapters[0] == "book/intro"
    for number, file in enumerate(chapters, start=1):
        if file.startswith("notebooks/"):
            assert file.split("/")[1].startswith(f"{number:02d}_"), f"{file} is chapter {number}"


def test_each_audio_player_sits_in_the_row_that_labels_it(tmp_path):
    from conftest import write_wav

    rows = pd.DataFrame({"emotion": ["anger", "sadness"], "clarity": [0.123, 0.9], "gold": ["anger", "neutral"],
                         "path": [tmp_path / "a.wav", tmp_path / "b.wav"]})
    for path in rows["path"]:
        write_wav(path, seconds=0.1)
    html = book.audio_table(rows).data
    body = html.split("<tbody>")[1]
    assert html.count("<audio") == 2 and body.count("<tr>") == 2
    first, second = body.split("</tr>")[:2]
    assert "<td>anger</td><td>0.12</td><td>anger</td>" in first and "<audio" in first
    assert "<td>sadness</td><td>0.90</td><td>neutral</td>" in second and "<audio" in second


def test_f0_errors_count_the_octave_jumps_against_the_synthesised_f0():
    from minisermeta.corpora.synthemo import plan, synthesised_f0
    from minisermeta.features import feature_names

    setup = book.setup(quick=True)
    planned = plan(setup.scale, setup.corpus_seed)
    table = pd.concat([planned[planned["truth"] == e].head(2) for e in ("anger", "sadness")])
    table = table.assign(path="", gold=table["truth"], votes=[(t,) * 3 for t in table["truth"]], self_votes=[()] * 4)
    truth = synthesised_f0(table["utterance"], setup.scale, setup.corpus_seed)
    column = feature_names("paper32").index("F0")
    frames = []
    for f0 in truth.values():
        f = np.zeros((len(f0) - 2, 32), np.float32)  # a tracker's track may be a frame or two shorter
        f[:, column] = f0[:-2] * 2 ** (0.5 / 12)  # half a semitone sharp
        frames.append(f)
    first = np.flatnonzero(frames[0][:, column] > 0)[:10]
    frames[0][first, column] *= 2  # ten frames of the first anger utterance an octave up
    found = book.f0_errors(Corpus(table.reset_index(drop=True)), frames, setup)
    voiced = sum(int((t[:-2] > 0).sum()) for t in list(truth.values())[:2])
    assert found.loc["anger", "voiced frames"] == voiced
    assert found.loc["anger", "doubled (%)"] == round(100 * 10 / voiced, 2)
    assert found.loc["anger", "utterances with a jump (%)"] == 50
    assert found.loc["sadness", ["doubled (%)", "halved (%)", "utterances with a jump (%)"]].tolist() == [0, 0, 0]
    assert found.loc["sadness", "median error otherwise (semitones)"] == 0.5
    assert found.loc[["happiness", "neutral"]].isna().all().all()  # no utterance of theirs


def test_committed_figures_are_stored_at_twice_their_displayed_size():
    """Retina PNGs (``book.sharp_figures``): sharp on high-DPI screens, shown at their size."""
    import base64
    import struct

    root = Path(__file__).resolve().parents[1]
    found = 0
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                if "image/png" not in output.get("data", {}):
                    continue
                png = base64.b64decode(output["data"]["image/png"])
                width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
                shown = output.get("metadata", {}).get("image/png", {})
                assert {"width", "height"} <= set(shown), f"{path.name}: a figure without its display size"
                assert width // 2 == shown["width"] and height // 2 == shown["height"], path.name
                found += 1
    assert found >= 10


def test_noise_methods_needs_the_default_noise_jobs_first():
    with pytest.raises(ValueError, match="run book.other_methods first"):
        book.noise_methods(book.study_setup(quick=True), [{"condition": "blstm_att", "seed": 0, "fold": "Ses01F"}])
