"""Command line: ``python -m minisermeta <command> …`` (``--help`` lists them)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from . import report
from .corpora import CLASS_SETS
from .features import FEATURE_SETS
from .settings import PRESETS


def _corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="synthemo",
                        help="'synthemo' (the default corpus, generated on first use), NAME:PATH with NAME one of "
                             "iemocap, emodb, cremad, ravdess, manifest (a CSV: path,speaker,label), or a PATH "
                             "whose layout tells which")
    parser.add_argument("--classes", choices=tuple(CLASS_SETS), default="paper",
                        help="paper: the paper's four classes, excited excluded (the default); merged: excited "
                             "counted as happiness; all: every emotion the corpus labels, the paper's four first, "
                             "then the others alphabetically")
    parser.add_argument("--lenient", action="store_true",
                        help="skip unreadable files, lines and utterances with a warning instead of stopping")


def _load(args):
    from .corpora import load_corpus

    corpus = load_corpus(args.corpus, classes=args.classes, strict=not args.lenient)
    print(corpus.summary(), file=sys.stderr)
    return corpus


def cmd_synthemo(args) -> None:
    from .corpora.synthemo import generate

    root = generate(args.out, scale=args.scale, seed=args.seed, n_jobs=args.n_jobs)
    print(root)


def cmd_table1(args) -> None:
    print(report.to_markdown(report.table1(_load(args))))


def cmd_features(args) -> None:
    from .features import extract

    corpus = _load(args)
    features = [f for f in extract(corpus, feature_set=args.feature_set, strict=not args.lenient) if f is not None]
    frames = sum(len(f) for f in features)
    print(f"{len(features)} utterances, {frames} frames × {features[0].shape[1]} {args.feature_set} features")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _seeds(text: str) -> list[int]:
    from .grid import check_seeds

    try:
        return check_seeds([int(n) if n.lstrip("-").isdigit() else n for n in _names(text)])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def cmd_reproduce(args) -> None:
    from .pipeline import reproduce
    from .settings import preset_name

    corpus = _load(args)
    preset = preset_name(args.preset)
    out = args.out or Path("runs") / f"{Path(str(args.corpus)).name}-{preset}"
    tables = reproduce(corpus, preset_name=preset, conditions=args.conditions, seeds=args.seeds, out=out,
                       n_jobs=args.n_jobs, feature_set=args.feature_set, classes=args.classes,
                       strict=not args.lenient, batch=args.batch, dask=args.dask, threads=args.threads)
    print("\nTable 2 (percent; test predictions pooled over folds and seeds)\n")
    print(report.to_markdown(tables["table2"]))
    if "table3" in tables:
        print("\nTable 3 (mean w per gold class, BLSTM + ATT + L + w)\n")
        print(report.to_markdown(tables["table3"], floatfmt=".2f"))
    print(f"\nAll tables (CSV and Markdown) and per-job results are in {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minisermeta", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("synthemo", help="write the SynthEmo corpus in IEMOCAP layout")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--scale", type=_positive, default=0.25, help="fraction of IEMOCAP's size (1 gives ~4,490)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=-1)
    p.set_defaults(run=cmd_synthemo)

    p = commands.add_parser("table1", help="print the paper's Table 1 for a corpus")
    _corpus_arguments(p)
    p.set_defaults(run=cmd_table1)

    p = commands.add_parser("features", help="extract (and cache) frame features of a corpus")
    _corpus_arguments(p)
    p.add_argument("--feature-set", choices=FEATURE_SETS, default="paper32")
    p.set_defaults(run=cmd_features)

    p = commands.add_parser("reproduce", help="run the leave-one-speaker-out grid of Table 2 and write Tables 2-3")
    _corpus_arguments(p)
    p.add_argument("--preset", choices=tuple(PRESETS), default=None,
                   help="default: quick when MINISERMETA_QUICK or CI is set, else paper on a GPU and small on a CPU")
    p.add_argument("--conditions", type=_names, default=None,
                   help="comma-separated names of minisermeta.methods.CONDITIONS; default: Table 2's eight, or on "
                        "the small preset (a CPU's default) the paper's method, its baseline and its control: "
                        "blstm_att,smoothed,L_w")
    p.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated integers >= 0")
    p.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<corpus>-<preset>)")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (-1: one per core)")
    p.add_argument("--threads", type=_count, default=None,
                   help="CPU threads per job (default: the cores shared out among this run's jobs); 1 for each of "
                        "two runs into one directory on one machine")
    p.add_argument("--batch", type=int, default=1,
                   help="jobs trained at once in one process (for a GPU; on a CPU 1 is fastest)")
    p.add_argument("--feature-set", choices=FEATURE_SETS, default="paper32")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the jobs on a Dask cluster: a scheduler's address (tcp://host:8786), or 'local' / "
                        "'local:N' for N worker processes here; needs pip install 'dask[distributed]'")
    p.set_defaults(run=cmd_reproduce)
    return parser


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, OSError, FloatingPointError, ImportError) as error:  # expected failures (CorpusError, a full or
        sys.exit(f"error: {error}")  # read-only disk, a file where a folder should be): one line, not a traceback


if __name__ == "__main__":
    main()
