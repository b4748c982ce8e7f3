"""ipywidgets explorers of the chapter "Explore".

Building a widget computes nothing expensive: training runs only when the
reader presses a button, so executing the notebook (CI, the book build) only
lays the controls out.

- :func:`knob_explorer` - pick a condition, an annotator noise level and the
  label scale of eq. (7), train one fold, compare with the truth.
- :func:`utterance_browser` - browse the training utterances the method
  down-weights most or relabels, and listen to them.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
from IPython.display import display

from . import book, paper
from .methods import CONDITIONS


def knob_explorer(corpus, features, preset_name: str = "quick", **overrides) -> w.VBox:
    """Controls for :func:`minisermeta.book.experiment` and an output area; training runs on "Run"."""
    condition = w.Dropdown(options=[(method.title, c) for c, method in CONDITIONS.items()], value="L_w",
                           description="condition")
    noise = w.FloatSlider(value=1.0, min=0.0, max=2.5, step=0.25, description="annotator noise",
                          style={"description_width": "initial"})
    label_scale = w.SelectionSlider(options=[1.0, 2.0, 3.0, 5.0, 10.0], value=1.0, description="label scale",
                                    style={"description_width": "initial"})
    fold = w.Dropdown(options=[(speaker, i) for i, speaker in enumerate(corpus.speakers)], value=0,
                      description="test speaker")
    button = w.Button(description="Run", button_style="primary", icon="play")
    out = w.Output()
    history: list[pd.DataFrame] = []

    def on_click(_):
        with out:
            out.clear_output()
            print(f"training {condition.label} on one fold (preset {preset_name}) ...")
            found = book.experiment(corpus, features, condition.value, noise.value, label_scale.value,
                                    fold_index=fold.value, preset_name=preset_name, **overrides)
            scores = found["scores"].assign(noise=noise.value, **{"label scale": label_scale.value})
            history.append(scores)
            out.clear_output()
            display(pd.concat(history).round(1))
            if not found["fixes"].empty:
                display(found["fixes"])

    button.on_click(on_click)
    controls = w.VBox([w.HBox([condition, fold]), w.HBox([noise, label_scale]), button])
    return w.VBox([controls, out])


def utterance_browser(flagged: pd.DataFrame, k: int = 20) -> w.VBox:
    """Browse the ``k`` most down-weighted or the ``k`` most relabelled utterances and play them.

    ``flagged`` is :func:`minisermeta.report.flagged_utterances` with a corpus
    (so it has ``path``).
    """
    views = {
        "highest w (least weight)": flagged.sort_values("w", ascending=False).head(k),
        "relabelled most often": flagged[flagged["relabelled"] > 0].sort_values(
            ["relabelled", "w"], ascending=False).head(k),
        "lowest w (most weight)": flagged.sort_values("w").head(k),
    }
    which = w.ToggleButtons(options=list(views), description="show")
    pick = w.Select(rows=10, layout=w.Layout(width="auto"))
    out = w.Output()

    def describe(row) -> str:
        truth = f", truth {row['truth']} (clarity {row['clarity']:.2f})" if "truth" in row else ""
        return f"{row.name}: gold {row['gold']} → learned {row['learned']}, w {row['w']:.2f}{truth}"

    def on_view(change=None):
        table = views[which.value]
        pick.options = [(describe(row), name) for name, row in table.iterrows()]
        pick.value = pick.options[0][1] if pick.options else None

    def on_pick(change=None):
        with out:
            out.clear_output()
            if pick.value is None:
                print("no utterance in this view")
                return
            row = flagged.loc[pick.value]
            print(describe(row))
            if "path" in row and isinstance(row["path"], str):
                display(book.audio(row["path"]))

    which.observe(on_view, names="value")
    pick.observe(on_pick, names="value")
    on_view()
    on_pick()
    return w.VBox([which, pick, out])


def summary_counts(flagged: pd.DataFrame) -> pd.DataFrame:
    """How many training utterances each view of :func:`utterance_browser` can show, per gold class."""
    return pd.DataFrame({
        "utterances": flagged.groupby("gold").size(),
        "ever relabelled": flagged[flagged["relabelled"] > 0].groupby("gold").size(),
        "mean w": flagged.groupby("gold")["w"].mean(),
    }).reindex([*paper.EMOTIONS, *sorted(set(flagged["gold"]) - set(paper.EMOTIONS))]).fillna(0).astype({"utterances": int, "ever relabelled": int}).round(2) \
        if len(flagged) else pd.DataFrame()


__all__ = ["knob_explorer", "utterance_browser", "summary_counts"]
