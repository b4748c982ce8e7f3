"""The book's figures: the paper's Fig. 1-3 redrawn, and the figures the book adds.

Every function draws into a new matplotlib figure (or into ``ax`` when given)
and returns the figure, so a notebook cell is one call and ``myst_nb.glue``
can caption it.

- :func:`fig1_model` - Fig. 1, the BLSTM with attention (chapter "The model").
- :func:`fig2_framework` - Fig. 2, the training framework (chapter "Learning labels and weights").
- :func:`fig3_label_moves` - Fig. 3, label updates per gold class, as a heatmap (chapter "Analysis").
- :func:`truth_vs_gold` - the simulated annotators' mistakes (chapter "The corpus").
- :func:`contours` - F0 and loudness over time per emotion (chapter "Features").
- :func:`attention` - attention weights over an utterance (chapter "The model").
- :func:`forest` - paired differences with their intervals (chapter "Experiments").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import paper

EMOTION_COLOURS = dict(zip(paper.EMOTIONS, ("#e69f00", "#0072b2", "#7f7f7f", "#d55e00")))


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _box(ax, x, y, w, h, text, colour="#dde8f5", fontsize=9, **kwargs):
    """A rounded box centred on (x, y) with centred text."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=colour, edgecolor="#333333", linewidth=1.0, **kwargs))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, colour="#333333", style="-|>", dashed=False, rad=0.0, text=None, fontsize=8):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, color=colour, linewidth=1.0,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2 + 0.05, (start[1] + end[1]) / 2, text, fontsize=fontsize, color=colour,
                ha="left", va="center")


def fig1_model(fc_units: int = 512, lstm_units: int = 128, n_classes: int = 4, ax=None):
    """Fig. 1: frames → FC + ReLU → BLSTM → attention (eq. 1-2) → FC + softmax (eq. 3)."""
    fig, ax = _axes(ax, (8, 5.2))
    frames = [0.9, 2.1, 3.3, 5.1]
    labels = ["1", "2", "3", "T"]
    for x, t in zip(frames, labels):
        _box(ax, x, 0.4, 0.9, 0.45, f"$x_{{n,{t}}}$\n32 feat.", "#f2f2f2", 8)
        _arrow(ax, (x, 0.65), (x, 1.05))
        _box(ax, x, 1.3, 0.9, 0.45, f"FC {fc_units}\nReLU", "#fde9c9", 8)
        _arrow(ax, (x, 1.55), (x, 1.95))
        _box(ax, x, 2.25, 0.9, 0.55, "LSTM →\n← LSTM", "#d9ead3", 8)
        _arrow(ax, (x, 2.55), (x, 3.0), text=f"$h_{{n,{t}}}$" if t in ("1", "T") else None)
    ax.text(4.2, 0.4, "…", fontsize=14, ha="center", va="center")
    ax.text(4.2, 2.25, "…", fontsize=14, ha="center", va="center")
    for a, b in zip(frames[:-1], frames[1:]):
        _arrow(ax, (a + 0.45, 2.33), (b - 0.45, 2.33), colour="#38761d")
        _arrow(ax, (b - 0.45, 2.15), (a + 0.45, 2.15), colour="#38761d")
    ax.text(6.25, 2.25, f"BLSTM\n{lstm_units} units per direction", fontsize=8, va="center", color="#38761d")
    _box(ax, 3.0, 3.3, 5.0, 0.55, r"attention  $\alpha_{n,t} = \mathrm{softmax}_t(h_{n,t}\,u^\top)$  (eq. 1)",
         "#ead1dc", 9)
    _arrow(ax, (3.0, 3.6), (3.0, 4.0))
    _box(ax, 3.0, 4.3, 5.0, 0.55, r"$h'_n = \sum_t \alpha_{n,t}\, h_{n,t}$  (eq. 2)", "#ead1dc", 9)
    _arrow(ax, (3.0, 4.6), (3.0, 5.0))
    _box(ax, 3.0, 5.3, 5.0, 0.55, f"FC {n_classes} + softmax  →  $y_n$  (eq. 3)", "#dde8f5", 9)
    ax.text(6.25, 1.3, "dropout 0.5 after\nevery layer", fontsize=8, va="center", color="#555555")
    ax.set_xlim(0.2, 7.8)
    ax.set_ylim(0, 5.8)
    ax.set_axis_off()
    return fig


def fig2_framework(ax=None):
    """Fig. 2: the alternating training of θ (network) and l, w (per utterance)."""
    fig, ax = _axes(ax, (8.5, 4.6))
    _box(ax, 1.0, 3.6, 1.5, 0.6, "utterance $x_n$", "#f2f2f2")
    _box(ax, 3.3, 3.6, 2.0, 0.7, "BLSTM + attention\nparameters θ", "#d9ead3")
    _box(ax, 5.6, 3.6, 1.2, 0.6, "$y_n$", "#dde8f5")
    _box(ax, 5.6, 2.0, 2.7, 0.8, r"loss (eq. 6)" "\n" r"$-\sum_c s_{n,c}\log y_{n,c}\,/\,w_n$", "#ead1dc")
    _box(ax, 2.4, 2.0, 1.8, 0.6, r"$s_n=\mathrm{softmax}(l_n)$" "\n(eq. 7)", "#fde9c9", 8)
    _box(ax, 0.7, 2.0, 1.0, 0.6, "$l_n$", "#fde9c9")
    _box(ax, 5.6, 0.5, 2.2, 0.6, r"$w_n$, mean 1 (eq. 8)", "#fde9c9", 8)
    _box(ax, 1.3, 0.5, 2.2, 0.6, "gold label\n(annotators)", "#f2f2f2", 8)
    _arrow(ax, (1.75, 3.6), (2.3, 3.6))
    _arrow(ax, (4.3, 3.6), (5.0, 3.6))
    _arrow(ax, (5.6, 3.3), (5.6, 2.4))
    _arrow(ax, (1.2, 2.0), (1.5, 2.0))
    _arrow(ax, (3.3, 2.0), (4.25, 2.0))
    _arrow(ax, (5.6, 0.8), (5.6, 1.6))
    _arrow(ax, (1.1, 0.8), (0.75, 1.7), text="one-hot")
    _arrow(ax, (2.4, 0.5), (4.5, 0.5), text=None)
    ax.text(3.3, 0.62, "class counts (eq. 4)", fontsize=8, ha="center")
    _arrow(ax, (6.9, 2.2), (4.0, 3.25), colour="#38761d", dashed=True, rad=0.35)
    ax.text(7.1, 3.25, "epoch A: update θ\n(l, w fixed)", fontsize=8, color="#38761d")
    _arrow(ax, (6.9, 1.8), (6.7, 0.7), colour="#b45f06", dashed=True, rad=-0.4)
    _arrow(ax, (4.4, 1.7), (0.9, 1.65), colour="#b45f06", dashed=True, rad=-0.25)
    ax.text(7.1, 1.2, "epoch B: update l, w\n(θ fixed), rescale w", fontsize=8, color="#b45f06")
    ax.set_xlim(0, 9)
    ax.set_ylim(0, 4.2)
    ax.set_axis_off()
    return fig


def fig3_label_moves(moves: pd.DataFrame, title: str | None = None, ax=None):
    """Fig. 3 as a heatmap: percent of each gold class (rows) whose learned label is each class.

    Untitled unless ``title`` is given: in the book the figure's caption says what it shows.
    """
    fig, ax = _axes(ax, (5.2, 4.2))
    sns.heatmap(moves, annot=True, fmt=".1f", cmap="Blues", vmin=0, vmax=100, cbar_kws={"label": "%"}, ax=ax)
    ax.set_xlabel(moves.columns.name or "learned label")
    ax.set_ylabel(moves.index.name or "gold label")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def truth_vs_gold(matrix: pd.DataFrame, ax=None):
    """The confusion of true emotion (rows) and gold label (columns), as percent of each true emotion."""
    fig, ax = _axes(ax, (7, 0.55 * len(matrix) + 1.6))  # tall enough that the row labels do not touch
    percent = 100 * matrix.div(matrix.sum(axis=1).clip(lower=1), axis=0)
    sns.heatmap(percent, annot=matrix.to_numpy(), fmt="d", cmap="Purples", vmin=0, vmax=100,
                cbar_kws={"label": "% of the true emotion"}, ax=ax)
    ax.set_xlabel("gold label (majority of the votes)")
    ax.set_ylabel("truth")
    ax.tick_params(axis="y", rotation=0)
    fig.tight_layout()
    return fig


def contours(tracks: dict[str, dict[str, np.ndarray]], synthesised: dict[str, np.ndarray] | None = None,
             hop: float = 0.01):
    """F0 (Hz, unvoiced frames hidden) and loudness over time, one line per emotion.

    ``tracks`` maps an emotion to ``{"F0": array, "loudness": array}`` (per 10 ms frame);
    ``synthesised`` optionally maps it to the F0 the synthesiser produced, drawn dashed under the tracked one.
    """
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for emotion, track in tracks.items():
        colour = EMOTION_COLOURS.get(emotion)
        if synthesised is not None and emotion in synthesised:
            true = np.asarray(synthesised[emotion], dtype=float)
            axes[0].plot(np.arange(len(true)) * hop, np.where(true > 0, true, np.nan), color=colour,
                         linestyle="--", linewidth=0.9, alpha=0.8)
        t = np.arange(len(track["F0"])) * hop
        f0 = np.where(track["F0"] > 0, track["F0"], np.nan)
        axes[0].plot(t, f0, color=colour, label=emotion, linewidth=1.2)
        axes[1].plot(np.arange(len(track["loudness"])) * hop, track["loudness"], color=colour, linewidth=1.0)
    if synthesised is not None:
        axes[0].plot([], [], color="#555555", linestyle="--", linewidth=0.9, label="synthesised")
    axes[0].set_ylabel("F0 (Hz)")
    axes[1].set_ylabel("loudness")
    axes[1].set_xlabel("time (s)")
    axes[0].legend(ncol=5, fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def attention(alpha: np.ndarray, loudness: np.ndarray | None = None, f0: np.ndarray | None = None,
              hop: float = 0.01, title: str | None = None):
    """Attention weights α_{n,t} over an utterance's frames, above its loudness and F0."""
    rows = 1 + (loudness is not None) + (f0 is not None)
    fig, axes = plt.subplots(rows, 1, figsize=(8, 1.6 + 1.4 * rows), sharex=True, squeeze=False)
    axes = axes[:, 0]
    t = np.arange(len(alpha)) * hop
    axes[0].fill_between(t, alpha, color="#a64d79", alpha=0.6, step="mid")
    axes[0].axhline(1 / len(alpha), color="#333333", linestyle=":", linewidth=1, label="uniform 1/T")
    axes[0].set_ylabel(r"$\alpha_{n,t}$")
    axes[0].legend(fontsize=8, loc="upper right")
    row = 1
    if loudness is not None:
        axes[row].plot(np.arange(len(loudness)) * hop, loudness, color="#333333", linewidth=1)
        axes[row].set_ylabel("loudness")
        row += 1
    if f0 is not None:
        axes[row].plot(np.arange(len(f0)) * hop, np.where(f0 > 0, f0, np.nan), color="#0072b2", linewidth=1)
        axes[row].set_ylabel("F0 (Hz)")
    axes[-1].set_xlabel("time (s)")
    if title:
        axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def weights_by_class(jobs: list[dict], condition: str = "L_w", ax=None):
    """Learned w_n per gold class, split by whether the gold label is right (simulated corpora)."""
    from .report import class_names

    classes = class_names(jobs)
    rows = []
    for job in jobs:
        if job["condition"] != condition:
            continue
        train = job["train"]
        truth = train["truth"] or [None] * len(train["gold"])
        for g, t, w in zip(train["gold"], truth, train["w"]):
            rows.append({"gold": classes[g], "w": w,
                         "gold is": "unknown" if t is None else ("right" if g == t else "wrong")})
    table = pd.DataFrame(rows)
    fig, ax = _axes(ax, (6.5, 3.6))
    sns.barplot(data=table, x="gold", y="w", hue="gold is", order=list(classes), errorbar="sd", ax=ax)
    ax.axhline(1, color="#333333", linestyle=":", linewidth=1)
    ax.set_ylabel("learned $w_n$, mean ± sd\n(higher = less weight)")
    ax.set_xlabel("gold label")
    fig.tight_layout()
    return fig


def forest(tables: dict[str, pd.DataFrame], measure: str = "UA", alpha: float = 0.05, ax=None,
           reference: dict[str, float] | None = None, reference_label: str = "paper"):
    """Paired differences (``report.contrasts``) as points with their intervals, one panel row per contrast.

    ``tables`` maps a label (e.g. "vs gold", "vs truth") to a contrasts table;
    a filled marker is a difference whose Holm-corrected p is below ``alpha``
    (real by the book's rule), an open one is not. ``reference`` optionally
    maps a contrast to a published difference, drawn as a black cross.
    """
    names = list(dict.fromkeys(name for table in tables.values() for name in table.index))
    fig, ax = _axes(ax, (8, 0.55 * len(names) + 1.2))
    offsets = np.linspace(-0.15, 0.15, len(tables)) if len(tables) > 1 else [0.0]
    for (label, table), offset, colour in zip(tables.items(), offsets, ("#0072b2", "#d55e00", "#009e73")):
        for name in table.index:
            diff, low, high = table.loc[name, [f"{measure} diff", f"{measure} low", f"{measure} high"]]
            real = table.loc[name, f"{measure} p (Holm)"] < alpha
            y = len(names) - 1 - names.index(name) + offset
            ax.plot([low, high], [y, y], color=colour, linewidth=2)
            ax.plot(diff, y, "o", color=colour, markerfacecolor=colour if real else "white", markersize=7,
                    label=label if name == table.index[0] else None)
    shown = [name for name in names if reference and name in reference]
    for name in shown:
        ax.plot(reference[name], len(names) - 1 - names.index(name), "x", color="black", markersize=8,
                markeredgewidth=2, label=reference_label if name == shown[0] else None)
    ax.axvline(0, color="#333333", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(names)), names[::-1])
    ax.set_xlabel(f"{measure} difference (points), 95 % interval over sessions")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def by_noise(table: pd.DataFrame, default: str = "adam 0.1, scale 1", axes=None):
    """``study.noise_table`` as two panels over annotator noise: training labels right (%), test UA vs the truth.

    Lines: gold (left panel only), the baseline (right panel only), L + w
    with the presets' update (``default``) and with the setting chosen per
    session on validation ("nested choice").
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    fig = axes[0].figure
    noise = sorted(table.index.get_level_values(0).unique())
    learned = ((f"L + w, {default}", default, "#0072b2"), ("L + w, chosen on validation", "nested choice", "#d55e00"))
    panels = ((("gold labels", "baseline", "#333333"), *learned), (("baseline", "baseline", "#333333"), *learned))
    for ax, lines, column in zip(axes, panels, ("right %", "test truth UA")):
        for label, row, colour in lines:
            name = column if column != "right %" else ("gold right %" if row == "baseline" else "learned right %")
            ax.plot(noise, [table.loc[(n, row), name] for n in noise], "--" if row == "baseline" else "-",
                    marker="o", color=colour, label=label)
    for ax, ylabel in zip(axes, ("training labels right (%)", "test UA vs the truth (%)")):
        ax.set_xlabel("annotator noise (times SynthEmo's default)")
        ax.set_ylabel(ylabel)
        ax.set_xticks(noise)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def correction_by_noise(table: pd.DataFrame, axes=None):
    """``correction.by_noise`` over annotator noise, one line per method: the AUROC of its trust and the mean
    trust (weight) of wrong over right labels, and for the methods that flag a set, the precision, recall and
    share flagged (95 % intervals over sessions as whiskers, where the table has them: not for the share
    flagged, which pools every job).

    The precision panel's dashed line is the share of wrong gold labels: what
    flagging at random reaches; the dotted lines are a method blind to which
    labels are wrong (AUROC 0.5, ratio 1). At noise 0 no label is wrong:
    AUROC, the ratio and recall are undefined, and every flag hits a right label.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 5, figsize=(19, 3.6))
    fig = axes[0].figure
    noise = sorted(table.index.get_level_values("annotator noise").unique())
    methods = list(dict.fromkeys(table.index.get_level_values("method")))
    colours = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    for ax, column in zip(axes, ("AUROC", "weight wrong/right", "precision", "recall", "flagged %")):
        for method in methods:
            rows = table.xs(method, level="method").reindex(noise)
            if column not in rows or rows[column].isna().all():
                continue
            whisker = None
            if f"{column} low" in rows:
                whisker = np.array([rows[column] - rows[f"{column} low"], rows[f"{column} high"] - rows[column]])
            ax.errorbar(noise, rows[column], yerr=whisker, marker="o", capsize=3, color=colours[method], label=method)
        if column == "precision":
            share = table.groupby(level="annotator noise")["wrong gold %"].mean().reindex(noise)
            ax.plot(noise, share, "--", color="#333333", label="wrong gold labels (flagging at random)")
        if column in ("AUROC", "weight wrong/right"):
            ax.axhline(0.5 if column == "AUROC" else 1, color="#999999", linestyle=":", linewidth=1)
        ax.set(xlabel="annotator noise (times SynthEmo's default)", ylabel=column if column != "flagged %" else
               "flagged (% of training utterances)", xticks=noise)
        ax.grid(alpha=0.3)
    legend = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=min(len(legend), 4), frameon=False,
               fontsize=8)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def distrust(views: dict[str, dict], axes=None):
    """What each method distrusts on one job (``correction.job_views``), against the truly wrong gold labels.

    Left: going down each method's trust from the least trusted utterance,
    the share of the wrong labels met so far (recall) against the share of
    utterances passed; the diagonal is a method blind to which labels are
    wrong. A dot marks a method's flagged set (dropped or relabelled).
    Right: the wrong labels and as many right ones, one column each; dark
    where a method distrusts the utterance (``correction.distrusted``).
    """
    from .correction import distrusted

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 0.4 * len(views) + 3.6), gridspec_kw=dict(width_ratios=(1, 1.3)))
    fig = axes[0].figure
    first = next(iter(views.values()))
    wrong = first["gold"] != first["truth"]
    ax = axes[0]
    ax.plot([0, 100], [0, 100], color="#999999", linestyle=":", linewidth=1, label="blind")
    colours = sns.color_palette("colorblind", len(views))
    for (name, view), colour in zip(views.items(), colours):
        order = np.argsort(view["trust"], kind="stable")
        passed = 100 * np.arange(1, len(order) + 1) / len(order)
        ax.plot(passed, 100 * np.cumsum(wrong[order]) / wrong.sum(), color=colour, linewidth=1.4, label=name)
        if view["flagged"] is not None:
            ax.plot(100 * view["flagged"].mean(), 100 * (view["flagged"] & wrong).sum() / wrong.sum(), "o",
                    color=colour, markeredgecolor="black", markersize=6)
    ax.set(xlabel="utterances distrusted, least trusted first (%)", ylabel="wrong gold labels among them (%)",
           xlim=(0, 100), ylim=(0, 100))
    ax.legend(fontsize=8, loc="lower right")
    rng = np.random.default_rng(0)  # which right labels fill the other half of the picture
    right = rng.choice(np.flatnonzero(~wrong), min(wrong.sum(), (~wrong).sum()), replace=False)
    columns = np.concatenate([np.flatnonzero(wrong), np.sort(right)])
    grid = np.array([distrusted(view, wrong.mean())[columns] for view in views.values()], dtype=float)
    order = np.concatenate([np.argsort(-grid[:, :wrong.sum()].sum(axis=0), kind="stable"),
                            wrong.sum() + np.argsort(-grid[:, wrong.sum():].sum(axis=0), kind="stable")])
    axes[1].imshow(grid[:, order], aspect="auto", cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest")
    axes[1].axvline(wrong.sum() - 0.5, color="#d55e00", linewidth=1.5)
    axes[1].set_yticks(range(len(views)), list(views), fontsize=8)
    axes[1].set_xticks([wrong.sum() / 2, wrong.sum() * 1.5], [f"{wrong.sum()} wrong gold labels",
                                                               f"{len(right)} right ones (a random draw)"])
    axes[1].tick_params(axis="x", length=0)
    fig.tight_layout()
    return fig
