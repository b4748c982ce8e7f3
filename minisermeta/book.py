"""What the book's notebooks share: the mode-dependent setup and the run-or-load of the grid.

Every notebook of the book starts with::

    from minisermeta import book
    setup = book.setup()          # quick under CI / MINISERMETA_QUICK=1, full otherwise

and reads its corpus and results through this module, so the choice between
the quick and the full setup is made in one place (``environment.quick_mode``):

========== ============================ ======== ========= =======================
mode       corpus                       preset   seeds     run directory
========== ============================ ======== ========= =======================
quick      SynthEmo, scale 0.05, seed 0 quick    0         ``runs/book-quick``
full       SynthEmo, scale 0.25, seed 0 paper    0         ``results/book-paper``
========== ============================ ======== ========= =======================

The full mode trains one seed: its grid is 90 paper-preset jobs (the paper's
8 conditions and the ``smoothed`` control, :data:`BOOK_CONDITIONS`), about 10
job-hours on a CPU (5 h on two cores), and the committed run
(``results/book-paper``) is what the rendered book shows. More seeds are
``dataclasses.replace(setup(), seeds=(0, 1, 2))`` away; the extra jobs add to the same run directory.

The grid of Table 2 is expensive in the full mode, so
:func:`results` loads a finished run from disk when one is there and runs (or
resumes) it only when not. Run directories are relative to the repository root
(the folder holding ``_config.yml``), or to the working directory outside a
checkout (Colab).

Importing the module also asks IPython, where it runs, for inline figures at
twice their pixels (:func:`sharp_figures`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import comparison, environment, grid, paper, pipeline, report, settings, study
from .corpora import Corpus
from .corpora.synthemo import SPEAKERS, load_synthemo
from .folds import loso_folds
from .methods import CONDITIONS, FORGET_RATES, PAPER_CONDITIONS


def sharp_figures() -> bool:
    """Inline figures at twice their pixels, displayed at their size: sharp on high-DPI screens.

    In Jupyter, on Colab and in the rendered book alike (myst-nb keeps the width
    and height a retina PNG is stored with). Called when the module is imported;
    returns whether an IPython shell was there to take it.
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    set_matplotlib_formats("retina")
    return True


sharp_figures()


# The conditions the book's grid runs: the paper's Table 2 and the control that chapter 6 needs to
# tell learned labels and weights from the label smoothing they start from.
BOOK_CONDITIONS = (*PAPER_CONDITIONS, "smoothed")


@dataclass(frozen=True)
class BookSetup:
    """The corpus, preset and seeds the notebooks use, and where their run lives."""

    quick: bool  # quick mode (CI, MINISERMETA_QUICK=1) or the full setup
    scale: float  # SynthEmo scale: 1 is IEMOCAP-sized (about 4,490 utterances)
    corpus_seed: int  # SynthEmo's seed
    preset: str  # training preset, a key of settings.PRESETS
    seeds: tuple[int, ...]  # training seeds of every (condition, fold) job
    run_dir: Path  # where the grid's job results and tables are written
    n_jobs: int = 2  # grid jobs at once
    overrides: dict = field(default_factory=dict)  # fields of the preset that this run sets otherwise
    conditions: tuple[str, ...] = BOOK_CONDITIONS  # the grid's conditions: what book.results runs by default

    def settings(self) -> settings.Settings:
        """The settings of the run's jobs: the preset with the setup's overrides."""
        return settings.preset(self.preset, **self.overrides)

    def describe(self) -> str:
        """One line for the text of a chapter: which corpus, preset and seeds."""
        seeds = ", ".join(map(str, self.seeds))
        return (f"SynthEmo (scale {self.scale}, seed {self.corpus_seed}), preset {self.preset}, "
                f"training seed{'s' if len(self.seeds) > 1 else ''} {seeds}"
                f" ({'quick' if self.quick else 'full'} mode)")


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``_config.yml``; else cwd."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_config.yml").is_file() and (folder / "minisermeta").is_dir():
            return folder
    return start


def setup(quick: bool | None = None) -> BookSetup:
    """The book's setup for the quick mode (default: ``environment.quick_mode()``) or the full one."""
    quick = environment.quick_mode() if quick is None else quick
    root = repository_root()
    n_jobs = min(2, os.cpu_count() or 1)
    if quick:
        # A non-default MINISERMETA_HOME (the test suite's) gets its own run directory, so the
        # notebooks under test run their grid instead of loading the one a reader left behind.
        default_home = Path.home() / ".cache" / "minisermeta"
        name = "book-quick" if environment.home().resolve() == default_home.resolve() else \
            "book-quick-" + hashlib.blake2b(str(environment.home().resolve()).encode(), digest_size=4).hexdigest()
        return BookSetup(True, 0.05, 0, "quick", (0,), root / "runs" / name, n_jobs)
    # results/book-paper was run before jobs were seeded per fold: both folds of a session share seed 0
    return BookSetup(False, 0.25, 0, "paper", (0,), root / "results" / "book-paper", n_jobs, {"fold_seeds": False})


def study_setup(quick: bool | None = None) -> BookSetup:
    """The small preset's study (``minisermeta.study``), which chapter 9's sweeps and chapter 10 build on.

    Full mode: the small preset over the study's five seeds (``results/study-small``;
    :func:`paper_study` is the verdict's, at the paper preset). Quick mode: the quick
    setup's run itself (seed 0), so that the chapter trains only the
    conditions chapter 6 did not run and executes in CI in a few minutes;
    the study's statistics over several seeds are unit-tested instead.
    """
    quick = environment.quick_mode() if quick is None else quick
    if quick:
        return replace(setup(True), conditions=study.CONDITIONS)
    return BookSetup(False, 0.25, 0, "small", study.SEEDS, repository_root() / "results" / "study-small",
                     min(2, os.cpu_count() or 1), conditions=study.CONDITIONS)


def paper_study_setup() -> BookSetup:
    """The study's seeds 1 to 4 at the paper preset (``results/study-paper``): with chapter 6's run, the verdict's study.

    Chapter 6's run holds seed 0 at the paper preset; this run adds seeds
    1 to 4 of ``study.CONDITIONS`` (seeded per fold, as the small preset's
    study). 0.3 to 2.8 job-hours a seed per condition (undersampling the
    least; one CPU thread a job): it runs across sessions with
    ``book.results(paper_study_setup(), [condition])``, resuming, one seed at
    a time so that whole seeds are committed. :func:`paper_study` reads it.
    """
    return replace(study_setup(False), preset="paper", seeds=study.SEEDS[1:],
                   run_dir=repository_root() / "results" / "study-paper")


def sweep(book_setup: BookSetup, progress: bool | None = None) -> dict[str, list[dict]]:
    """The study's l/w update sweep beside the setup's run (``<run>-sweep/``): L + w, loaded or run (seed 0).

    Full mode: every setting of ``study.SWEEP``. Quick mode: two of them
    (Adam and SGD at label scale 1).
    """
    names = ("adam 0.1, scale 1", "sgd 3, scale 1") if book_setup.quick else study.SWEEP
    return _sweep(book_setup, sweep_root(book_setup), {name: ("L_w",) for name in names}, progress=progress)


def label_scales(book_setup: BookSetup, jobs: list[dict], progress: bool | None = None) -> dict[float, list[dict]]:
    """``study.SCALE_CONDITIONS`` at each label scale of ``study.SCALES``: ``{scale: job results}``.

    The other scales run seed 0 (or load it) in the sweep's setting at that
    scale, beside L + w's jobs there, and read every seed run there since
    (the study's seeds, in ``results/``). Scale 1 is read from ``jobs`` (the
    setup's run). Every scale keeps the seeds of which every scale and
    condition has all ten folds (``study.whole_seeds``), so that the scales
    compare like with like and a grid still running adds no partial seed.
    Quick mode: scales 1 and 10, the smoothed control and L + w only.
    """
    scales, conditions = ((1.0, 10.0), ("smoothed", "L_w")) if book_setup.quick \
        else (tuple(study.SCALES), study.SCALE_CONDITIONS)
    found = _sweep(book_setup, sweep_root(book_setup),
                   {study.SCALES[scale]: conditions for scale in scales if scale != 1.0}, progress=progress)
    by_scale = {scale: found[study.SCALES[scale]] for scale in scales if scale != 1.0}
    by_scale[1.0] = [r for r in jobs if r["condition"] in conditions]
    folds = len(loso_folds(SPEAKERS))
    seeds = set.intersection(*(study.whole_seeds(results, conditions, folds) for results in by_scale.values()))
    return {scale: [r for r in by_scale[scale] if r["seed"] in seeds] for scale in sorted(by_scale)}


# The sweep at other annotator noise: the three settings with the highest validation UA at the default noise
# (chapter 9's sweep table), the presets' update first; each noise its own runs, the baseline beside the first.
NOISE_SETTINGS = ("adam 0.1, scale 1", "adam 0.03, scale 1", "sgd 1, scale 1")
# What L + w is compared with at every annotator noise: the baseline, and w alone (to tell w's part of a gain from
# the labels'). Neither learns labels (w's update is the same at the three settings), so each runs at the first.
NOISE_CONTROLS = ("blstm_att", "w")


def noise_sweeps(book_setup: BookSetup, jobs: list[dict], progress: bool | None = None) -> dict[float, dict]:
    """The sweep and :data:`NOISE_CONTROLS` at each annotator noise of ``study.NOISES``: ``{noise: {setting: job
    results}}``, the controls in the first setting's.

    Noise 1 is :func:`sweep` with the controls' jobs from ``jobs`` (the
    setup's run); noise 0 and 2 reannotate the corpus (:func:`reannotate`) and
    run in :func:`sweep_root` at that noise. Quick mode: the presets' update only.
    """
    names = NOISE_SETTINGS[:1] if book_setup.quick else NOISE_SETTINGS
    found = {}
    for noise in study.NOISES:
        if noise == 1.0:
            default = sweep(book_setup, progress)
            found[noise] = study.with_controls({name: default[name] for name in names}, jobs, NOISE_CONTROLS)
        else:
            plan = {name: (*NOISE_CONTROLS, "L_w") if name == names[0] else ("L_w",) for name in names}
            found[noise] = _sweep(book_setup, sweep_root(book_setup, noise), plan, noise, progress)
    return found


def _sweep(book_setup: BookSetup, root: Path, plan: dict[str, tuple[str, ...]], noise: float = 1.0,
           progress: bool | None = None, test_speakers=None) -> dict[str, list[dict]]:
    """Each ``study.SWEEP`` setting in ``plan`` (``{setting: conditions}``) under ``root``: its jobs of every seed.

    Seed 0 is run (resuming) where a job of it is missing, on the setup's
    corpus reannotated at ``noise`` where that is not 1, on the folds of
    ``test_speakers`` (default: every fold); other seeds are read where they
    were run (a chosen setting repeated over the study's seeds).
    """
    folds = [f for f in loso_folds(SPEAKERS) if test_speakers is None or f.test in test_speakers]
    complete = all(grid.job_path(study.sweep_dir(root, name), c, f, 0).is_file()
                   for name, conditions in plan.items() for c in conditions for f in folds)
    if not complete:
        data = corpus(book_setup) if noise == 1.0 else reannotate(corpus(book_setup), noise)
        for name, conditions in plan.items():
            study.run_sweep(data, root, book_setup.preset, seeds=(0,), conditions=conditions,
                            settings={name: study.SWEEP[name]}, n_jobs=book_setup.n_jobs,
                            progress=progress is not False, test_speakers=[f.test for f in folds])
    found = study.load_sweep(root, book_setup.preset, {name: study.SWEEP[name] for name in plan})
    return {name: [r for r in jobs if r["condition"] in plan[name]] for name, jobs in found.items()}


# The folds the quick mode compares the other methods on: two sessions, the fewest an interval over sessions needs.
QUICK_FOLDS = ("Ses01F", "Ses01M", "Ses02F", "Ses02M")


def other_methods(book_setup: BookSetup, progress: bool | None = None) -> list[dict]:
    """The jobs the chapter "Other ways to learn from ambiguous labels" compares, from the setup's run.

    ``comparison.COMPARED``, the paper's L and w (``comparison.DISTRUSTING``)
    and co-teaching's forget rates (``methods.FORGET_RATES``): seed 0 is run
    where a job of it is missing (resuming); of the other seeds on disk, every
    (condition, seed) that has all its folds is read, so a grid still running
    adds whole seeds only. The quick mode runs the folds of :data:`QUICK_FOLDS`.
    """
    conditions = list(dict.fromkeys([*comparison.COMPARED, *comparison.DISTRUSTING, *FORGET_RATES]))
    folds = [f for f in loso_folds(SPEAKERS) if not book_setup.quick or f.test in QUICK_FOLDS]
    if not all(grid.job_path(book_setup.run_dir, c, f, 0).is_file() for c in conditions for f in folds):
        pipeline.reproduce(corpus(book_setup), preset_name=book_setup.preset, conditions=conditions, seeds=(0,),
                           out=book_setup.run_dir, n_jobs=book_setup.n_jobs, progress=progress is not False,
                           test_speakers=[f.test for f in folds], **book_setup.overrides)
    tested = {f.test for f in folds}
    jobs = [r for r in grid.load_jobs(book_setup.run_dir) if r["condition"] in conditions and r["fold"] in tested]
    whole = {condition: study.whole_seeds(jobs, [condition], len(folds)) for condition in conditions}
    return [r for r in jobs if r["seed"] in whole[r["condition"]]]


# The methods whose label correction chapter 10 follows across annotator noise: the paper's L + w and each
# comparison method that distrusts labels, co-teaching at the forget rate every session chose at the default noise
# (confident learning's relabelling flags what its dropping flags: the same held-out networks). Quick mode: L + w
# and GCE, the cheap ones.
NOISE_METHODS = ("L_w", "gce", "co_teaching_forget0.1", "meta_weight_net", "cl_drop")


def noise_methods(book_setup: BookSetup, jobs: list[dict], progress: bool | None = None) -> dict[float, list[dict]]:
    """:data:`NOISE_METHODS` at each annotator noise of ``study.NOISES``: ``{noise: job results}``.

    Noise 1 is read from ``jobs`` (:func:`other_methods`), on its seed-0
    folds; noise 0 and 2 run seed 0 (resuming) on the same folds, beside the
    baseline and L + w of the noise sweep (:func:`noise_sweeps`: the presets'
    l/w update, in :func:`sweep_root` at that noise). Each method keeps the
    seeds it ran on every one of those folds at every noise (seed 0 at least),
    so between the rows of one method only the labels change.
    """
    conditions = ("L_w", "gce") if book_setup.quick else NOISE_METHODS
    tested = sorted({r["fold"] for r in jobs if r["condition"] in conditions and r["seed"] == 0})
    if not tested:
        raise ValueError(f"the jobs hold no seed-0 job of {', '.join(conditions)}; run book.other_methods first")
    found = {1.0: jobs}
    for noise in study.NOISES:
        if noise != 1.0:
            found[noise] = _sweep(book_setup, sweep_root(book_setup, noise), {NOISE_SETTINGS[0]: conditions}, noise,
                                  progress, test_speakers=tested)[NOISE_SETTINGS[0]]
    found = {noise: [r for r in part if r["condition"] in conditions and r["fold"] in tested]
             for noise, part in sorted(found.items())}
    seeds = {c: set.intersection(*(study.whole_seeds(part, [c], len(tested)) for part in found.values()))
             for c in conditions}
    return {noise: [r for r in part if r["seed"] in seeds[r["condition"]]] for noise, part in found.items()}


def sweep_root(book_setup: BookSetup, noise: float = 1.0) -> Path:
    """Where the setup's sweeps live: one run directory per setting under ``<run>-sweep``
    (``<run>-sweep-noise<noise>`` at another annotator noise than SynthEmo's default)."""
    suffix = "" if noise == 1.0 else f"-noise{noise:g}"
    return book_setup.run_dir.with_name(f"{book_setup.run_dir.name}-sweep{suffix}")


def corpus(book_setup: BookSetup | None = None, progress: bool = False) -> Corpus:
    """The setup's SynthEmo corpus (generated on first use, then read from the cache)."""
    book_setup = book_setup or setup()
    return load_synthemo(scale=book_setup.scale, seed=book_setup.corpus_seed, progress=progress)


@dataclass
class BookResults:
    """The tables (``pipeline.tables``) of some conditions of a grid run and their job results."""

    setup: BookSetup
    tables: dict[str, pd.DataFrame]
    jobs: list[dict] = field(repr=False)
    loaded: bool  # True: read from disk; False: (partly) computed now

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def expected_jobs(book_setup: BookSetup, conditions=None) -> list[Path]:
    """The job files a complete run of the setup holds (10 SynthEmo speakers = 10 folds)."""
    folds = loso_folds(SPEAKERS)
    return [grid.job_path(book_setup.run_dir, c, f, s)
            for c in (conditions or book_setup.conditions) for f in folds for s in book_setup.seeds]


def is_complete(book_setup: BookSetup, conditions=None) -> bool:
    """Whether every job of the setup's grid is on disk."""
    return all(path.is_file() for path in expected_jobs(book_setup, conditions))


def results(book_setup: BookSetup | None = None, conditions=None, progress: bool | None = None) -> BookResults:
    """The grid of Table 2 for the setup: loaded from disk when complete, else run (resuming).

    A second notebook calling this reuses the first one's jobs. ``progress``
    (default: when jobs have to run) shows a progress bar over the jobs.
    """
    book_setup = book_setup or setup()
    conditions = list(conditions or book_setup.conditions)
    loaded = is_complete(book_setup, conditions)
    progress = not loaded if progress is None else progress
    if loaded:
        pipeline.check_run(book_setup.run_dir, preset=book_setup.preset, settings=asdict(book_setup.settings()))
    else:
        pipeline.reproduce(corpus(book_setup), preset_name=book_setup.preset, conditions=conditions,
                           seeds=book_setup.seeds, out=book_setup.run_dir, n_jobs=book_setup.n_jobs,
                           progress=progress, **book_setup.overrides)
    jobs = [r for r in grid.load_jobs(book_setup.run_dir)
            if r["condition"] in conditions and r["seed"] in book_setup.seeds]
    # computed, not written: reading a run leaves its files as they are (reproduce wrote the run's tables)
    return BookResults(book_setup, pipeline.tables(jobs, report.has_truth(jobs)), jobs, loaded=loaded)


def paper_study(quick: bool | None = None) -> BookResults:
    """The study chapter 9's verdict reads: ``study.CONDITIONS`` at the paper preset, every whole seed on disk.

    Full mode: seed 0 from chapter 6's run (``results/book-paper``, which
    holds the study's conditions beside its own; its two folds of a session
    share one job seed) and seeds 1 to 4 from :func:`paper_study_setup`'s run,
    which grows a seed at a time across sessions. Each condition keeps the
    seeds of which it has every fold, so no claim rests on part of a seed;
    a claim pairs two conditions on the seeds both have (``report.contrasts``
    says how many). Nothing is trained: a missing condition is an error.
    Quick mode: the quick study itself (``results(study_setup(True))``,
    seed 0, run if need be).
    """
    if environment.quick_mode() if quick is None else quick:
        return results(study_setup(True))
    chapter6, more = setup(False), paper_study_setup()
    if not (chapter6.run_dir / "run.json").is_file():
        raise ValueError(f"{chapter6.run_dir} holds no run: chapter 6's run (seed 0 of the paper study) is missing")
    runs = [chapter6] + [more] * (more.run_dir / "run.json").is_file()  # study-paper: once its first job ran
    jobs = []
    for run in runs:
        pipeline.check_run(run.run_dir, preset=run.preset, settings=asdict(run.settings()))
        jobs += [r for r in grid.load_jobs(run.run_dir) if r["condition"] in study.CONDITIONS and r["seed"] in run.seeds]
    by_condition = {c: [r for r in jobs if r["condition"] == c] for c in study.CONDITIONS}
    whole = {c: study.whole_seeds(found, [c], len(SPEAKERS)) for c, found in by_condition.items()}
    missing = [c for c in study.CONDITIONS if not whole[c]]
    if missing:
        raise ValueError(f"{chapter6.run_dir} and {more.run_dir} hold no whole seed of {', '.join(missing)} at the "
                         f"paper preset; run them with book.results(book.paper_study_setup(), {missing})")
    jobs = [r for c in study.CONDITIONS for r in by_condition[c] if r["seed"] in whole[c]]
    seeds = tuple(sorted(set().union(*whole.values())))
    # one setup describes the study: study-paper's, with every seed read (seed 0's folds share a job seed, as
    # chapter 6's run was made; the chapter says so)
    return BookResults(replace(more, seeds=seeds), pipeline.tables(jobs, report.has_truth(jobs)), jobs, loaded=True)


# -- small helpers the chapters show -----------------------------------------


def pick_utterances(corpus: Corpus, speaker: str | None = None) -> pd.DataFrame:
    """One utterance per true emotion and clarity band (low < 0.33 <= mid < 0.66 <= high).

    For each (emotion, band) the utterance whose clarity is nearest the band's
    middle, of ``speaker`` when given; rows are in emotion order.
    """
    table = corpus.table if speaker is None else corpus.table[corpus.table["speaker"] == speaker]
    column = "truth" if "truth" in table.columns else "gold"
    bands = {"low": 1 / 6, "mid": 1 / 2, "high": 5 / 6}
    rows = []
    for emotion in paper.EMOTIONS:
        of_emotion = table[table[column] == emotion]
        for band, middle in bands.items():
            if "clarity" not in of_emotion.columns or of_emotion.empty:
                continue
            best = of_emotion.iloc[int(np.argmin(np.abs(of_emotion["clarity"].to_numpy() - middle)))]
            rows.append({"emotion": emotion, "band": band, **best[["utterance", "speaker", "gold", "clarity",
                                                                   "path"]].to_dict()})
    return pd.DataFrame(rows)


def audio(path, rate: int | None = None):
    """An ``IPython.display.Audio`` player for a wav file (embedded, so it works in the built book)."""
    import soundfile as sf
    from IPython.display import Audio

    samples, file_rate = sf.read(str(path), dtype="float32")
    return Audio(samples, rate=rate or file_rate, normalize=True)


def audio_table(rows: pd.DataFrame, columns=("emotion", "clarity", "gold")):
    """An HTML table of labelled players: per row, ``columns`` of ``rows`` beside the audio of its ``path``.

    Each player sits in the row that says what it is, in the notebook and in the
    built book alike (the audio is embedded).
    """
    from html import escape

    from IPython.display import HTML

    def shown(value) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    head = "".join(f"<th>{escape(column)}</th>" for column in columns) + "<th>listen</th>"
    body = "".join("<tr>" + "".join(f"<td>{escape(shown(row[column]))}</td>" for column in columns)
                   + f"<td>{audio(row['path'])._repr_html_()}</td></tr>" for _, row in rows.iterrows())
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def worked_example() -> dict:
    """The small worked example of the chapter on eq. 4-8 (fixed numbers, no randomness).

    Six training utterances of 4 classes with gold labels and fixed model
    outputs y_n; returns the eq. 4 weights, the targets s_n at label scale 1
    and 10, the per-utterance loss of eq. 6 and the closed-form w of the
    w update (w ∝ sqrt(CE)).
    """
    from .meta import class_frequency_weights, closed_form_weights, init_label_logits

    gold = np.array([0, 1, 2, 2, 2, 3])
    y = np.array([[0.55, 0.10, 0.25, 0.10],  # a happy utterance the model half agrees with
                  [0.05, 0.80, 0.10, 0.05],  # a clear sad one
                  [0.05, 0.10, 0.80, 0.05],  # a clear neutral one
                  [0.40, 0.05, 0.45, 0.10],  # neutral gold, the model hesitates with happiness
                  [0.60, 0.05, 0.25, 0.10],  # neutral gold, the model says happiness: a wrong gold?
                  [0.05, 0.05, 0.10, 0.80]])  # a clear angry one
    w0 = class_frequency_weights(gold, 4)
    s1 = _softmax(init_label_logits(gold, 4, 1.0))
    s10 = _softmax(init_label_logits(gold, 4, 10.0))
    ce = -(s1 * np.log(y)).sum(axis=1)
    return dict(gold=gold, y=y, w0=w0, s1=s1, s10=s10, ce=ce, loss=ce / w0, w_closed=closed_form_weights(ce))


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def table3_initial_on_paper_counts() -> pd.DataFrame:
    """Eq. 4 on the paper's Table 1 totals, two readings, beside the first row of Table 3.

    As printed, eq. 4 divides count(c*_n) by its mean over *utterances*, so the
    weights have mean 1 over utterances (eq. 8). The paper's printed initial w
    (0.53, 0.97, 1.52, 0.98) are instead count(c) / (N / C): divided by the
    mean count over *classes*, so they average 1 over the four classes, not
    over the utterances. The library follows the equation (``meta.class_frequency_weights``).
    """
    from .meta import class_frequency_weights

    totals = np.sum(list(paper.TABLE1.values()), axis=0)
    gold = np.repeat(np.arange(len(paper.EMOTIONS)), totals)
    w = class_frequency_weights(gold, len(paper.EMOTIONS))
    rows = {
        "eq. 4 as printed (mean over utterances = 1)": [w[gold == c][0] for c in range(len(totals))],
        "count / (N / C) (mean over classes = 1)": list(totals / totals.mean()),
        "paper, Table 3, initial w": list(paper.TABLE3["initial"]),
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[e.capitalize() for e in paper.EMOTIONS])
    return table.round(2)


# -- the explorer's experiments (chapter "Explore") ---------------------------


def reannotate(corpus: Corpus, noise: float = 1.0, seed: int = 0) -> Corpus:
    """SynthEmo's annotators again, with ``noise`` times their default chance of mishearing.

    ``noise=1`` draws new votes as SynthEmo does (``corpora.synthemo.annotate``,
    with its ``draw='miss'`` stream, so results stay as they were), ``0``
    gives perfect annotators (gold = truth), ``2`` twice the misses. The
    audio, truth and clarity stay; utterances whose new gold falls outside the
    corpus's classes are dropped, as the reader drops them.
    """
    from .corpora.base import CLASS_SETS, canonical_label
    from .corpora.synthemo import annotate, gold_code

    if not corpus.has_truth:
        raise ValueError("reannotate needs a simulated corpus (truth and clarity columns)")
    rng = np.random.default_rng([seed, 7])
    class_map = CLASS_SETS[corpus.class_set]
    votes_column, gold_column = [], []
    for truth, clarity in zip(corpus.table["truth"], corpus.table["clarity"]):
        votes = annotate(truth, clarity, rng, noise, draw="miss")
        votes_column.append(tuple(votes))
        gold_column.append(class_map.get(canonical_label(gold_code(votes)) or "", None))
    table = corpus.table.assign(votes=votes_column, gold=gold_column)
    return Corpus(table[table["gold"].isin(corpus.classes)], class_set=corpus.class_set, root=corpus.root,
                  classes=corpus.classes)  # the same label indices at every noise


def experiment(corpus: Corpus, features: list[np.ndarray], condition: str = "L_w", noise: float = 1.0,
               label_scale: float = 1.0, fold_index: int = 0, seed: int = 0, preset_name: str = "quick",
               **overrides) -> dict:
    """One job of the explorer: reannotate with ``noise``, train ``condition`` on one fold, score it.

    ``features`` are the corpus's features in table order (``features.extract``);
    ``fold_index`` picks the fold among ``loso_folds`` (wrapping around).
    Returns ``scores`` (WA/UA of the test speaker against gold and truth, and
    the share of wrong gold labels), ``fixes`` (``report.label_fixes`` on the
    training utterances; empty for conditions that do not learn labels) and
    the job ``result``.
    """
    from . import metrics, report
    from .dataset import Dataset
    from .train import free_cores, train_job

    position = {u: i for i, u in enumerate(corpus.table["utterance"])}
    noisy = reannotate(corpus, noise, seed)
    dataset = Dataset.from_corpus(noisy, [features[position[u]] for u in noisy.table["utterance"]])
    folds = loso_folds(dataset.speakers)
    job_settings = settings.preset(preset_name, label_scale=label_scale, **overrides)
    result = train_job(dataset, condition, folds[fold_index % len(folds)], seed=seed, settings=job_settings,
                       threads=free_cores())  # the explorer may run beside a grid
    test = result["test"]
    row = {"test speaker": result["fold"], "utterances": len(noisy),
           "% gold wrong": 100 * float(np.mean(noisy.table["gold"] != noisy.table["truth"]))}
    for against in ("gold", "truth"):
        s = metrics.scores(np.array(test[against]), np.array(test["pred"]), len(result["classes"]))
        row[f"WA vs {against}"], row[f"UA vs {against}"] = 100 * s["wa"], 100 * s["ua"]
    fixes = report.label_fixes([result]) if report.label_learners([result]) else pd.DataFrame()
    return dict(scores=pd.DataFrame([row], index=[CONDITIONS[condition].title]), fixes=fixes, result=result)


# -- features (chapter "Features") --------------------------------------------


def feature_tracks(paths: dict, names=("F0", "loudness"), feature_set: str = "paper32") -> dict:
    """``{label: {name: per-frame array}}`` of the raw (unnormalised) features of one wav per label."""
    from .features import extract, feature_names

    columns = [feature_names(feature_set).index(n) for n in names]
    found = extract(list(paths.values()), feature_set, progress=False)
    return {label: {n: f[:, c] for n, c in zip(names, columns)} for label, f in zip(paths, found)}


def prosody_summary(corpus: Corpus, frames: list[np.ndarray], feature_set: str = "paper32") -> pd.DataFrame:
    """Mean F0 (voiced frames), loudness and voicing per utterance, averaged by emotion (truth, else gold)."""
    from .features import feature_names

    names = feature_names(feature_set)
    f0, loud, voicing = (names.index(n) for n in ("F0", "loudness", "voicingProb"))
    rows = []
    for f in frames:
        voiced = f[:, f0] > 0
        rows.append({"F0 mean (Hz)": f[voiced, f0].mean() if voiced.any() else np.nan,
                     "F0 std (Hz)": f[voiced, f0].std() if voiced.any() else np.nan,
                     "loudness mean": f[:, loud].mean(), "voicing prob. mean": f[:, voicing].mean()})
    column = "truth" if corpus.has_truth else "gold"
    table = pd.DataFrame(rows).groupby(corpus.table[column].to_numpy()).mean()
    table.index.name = column
    return table.reindex(list(paper.EMOTIONS)).astype(float)  # float64: float32 prints unrounded (184.850006)


OCTAVE = 1.5  # a tracked/synthesised F0 ratio beyond 1.5 (or below 1/1.5) is an octave jump, not a wobble


def f0_errors(corpus: Corpus, frames: list[np.ndarray], book_setup: BookSetup,
              feature_set: str = "paper32") -> pd.DataFrame:
    """The tracked F0 of ``frames`` against the F0 SynthEmo synthesised, per true emotion.

    Over the frames voiced in both: the percentage the tracker doubled (ratio
    above :data:`OCTAVE`) or halved, the share of utterances with at least one
    octave jump, and the median absolute error of the other frames in
    semitones. The tracker's window is longer than the synthesiser's frame,
    so voicing edges, where a lag of a frame matters, are what the median carries.
    """
    from .corpora.synthemo import synthesised_f0
    from .features import feature_names

    column = feature_names(feature_set).index("F0")
    table = corpus.table
    truth = synthesised_f0(table["utterance"], book_setup.scale, book_setup.corpus_seed)
    rows = []
    for utterance, f in zip(table["utterance"], frames):
        tracked, true = f[:, column].astype(float), truth[utterance]
        n = min(len(tracked), len(true))
        tracked, true = tracked[:n], true[:n]
        both = (tracked > 0) & (true > 0)
        ratio = tracked[both] / true[both]
        doubled, halved = ratio > OCTAVE, ratio < 1 / OCTAVE
        rows.append({"voiced frames": int(both.sum()), "doubled": int(doubled.sum()), "halved": int(halved.sum()),
                     "jumped": bool((doubled | halved).any()),
                     "error": np.abs(12 * np.log2(ratio[~doubled & ~halved]))})
    groups = pd.DataFrame(rows, index=table["truth"].to_numpy()).groupby(level=0)
    voiced = groups["voiced frames"].sum()
    summary = pd.DataFrame({
        "voiced frames": voiced,
        "doubled (%)": 100 * groups["doubled"].sum() / voiced,
        "halved (%)": 100 * groups["halved"].sum() / voiced,
        "utterances with a jump (%)": 100 * groups["jumped"].mean(),
        "median error otherwise (semitones)": groups["error"].agg(lambda e: np.median(np.concatenate(list(e)))),
    })
    summary.index.name = "truth"
    return summary.reindex(list(paper.EMOTIONS)).round(2)


# -- the model (chapter "The model") ------------------------------------------


def parameter_counts(config=None) -> pd.DataFrame:
    """Trainable parameters per layer of :class:`~minisermeta.model.BLSTMAttention` for a config."""
    from .model import BLSTMAttention

    model = BLSTMAttention(config)
    rows = {}
    for name, parameter in model.named_parameters():
        layer = name.split(".")[0]
        rows[layer] = rows.get(layer, 0) + parameter.numel()
    table = pd.Series(rows, name="parameters").to_frame()
    table.loc["total"] = table["parameters"].sum()
    return table


def attention_demo(corpus: Corpus, book_setup: BookSetup | None = None, fold_index: int = 0, seed: int = 0,
                   **overrides) -> dict:
    """Train BLSTM + ATT on one fold (early stopping) and return its attention over test utterances.

    Returns ``alpha`` (list of arrays, one per test utterance), the test
    utterances' raw ``F0`` and ``loudness``, their ``utterance`` ids, gold and
    predicted labels, and the training ``history``.
    """
    import torch

    from .dataset import collate
    from .features import feature_names
    from .pipeline import prepare
    from .train import Trainer, cpu_threads, free_cores, prepare_fold, set_seed

    book_setup = book_setup or setup()
    dataset = prepare(corpus, progress=False)
    chosen = loso_folds(dataset.speakers)[fold_index]
    data, train, valid, test = prepare_fold(dataset, chosen)
    with cpu_threads(free_cores()):  # beside a running grid, one thread rather than a fight for every core
        trainer = Trainer(data, CONDITIONS["blstm_att"], train, valid, settings.preset(book_setup.preset, **overrides),
                          set_seed(seed))
        trainer.fit()
    trainer.model.eval()
    names = feature_names("paper32")
    alphas, predictions = [], []
    with torch.no_grad():
        for i in test:
            x, lengths = collate(data, np.array([i]), trainer.device)
            logits, alpha = trainer.model(x, lengths, return_attention=True)
            alphas.append(alpha[0].cpu().numpy())
            predictions.append(int(logits.argmax()))
    raw = dataset.features(test)
    return dict(alpha=alphas, F0=[f[:, names.index("F0")] for f in raw],
                loudness=[f[:, names.index("loudness")] for f in raw],
                utterance=dataset.utterances[test].tolist(), gold=dataset.gold[test].tolist(),
                pred=predictions, test_speaker=chosen.test, history=pd.DataFrame(trainer.history))


# -- text -----------------------------------------------------------------------


class _Text(str):
    """A string whose repr is itself, so ``{glue:text}`` shows it without quotes."""

    def __repr__(self) -> str:
        return str(self)


def glue(name: str, value, display: bool = False) -> None:
    """``myst_nb.glue`` for the book's prose: numpy scalars as Python numbers, strings without quotes."""
    from myst_nb import glue as myst_glue

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        value = _Text(value)
    myst_glue(name, value, display=display)


# -- executing the notebooks ------------------------------------------------------


def execute_notebooks(paths, timeout: int = 3600) -> dict[str, float]:
    """Execute notebooks in place (widget state kept, so the built book shows the controls).

    Returns seconds per notebook; raises on the first cell error, after
    saving that notebook with its outputs so far. Run as
    ``python -m minisermeta.book notebooks/0*.ipynb``.
    """
    import time

    import nbformat
    from nbclient import NotebookClient

    seconds = {}
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=True,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        finally:
            nbformat.write(notebook, path)
        seconds[path.name] = time.perf_counter() - start
        print(f"{path}: {seconds[path.name]:.0f} s", flush=True)
    return seconds


if __name__ == "__main__":
    import sys

    execute_notebooks(sys.argv[1:])
