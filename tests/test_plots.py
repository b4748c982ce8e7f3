import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from minisermeta import plots
from minisermeta.paper import EMOTIONS


@pytest.mark.parametrize("draw", [plots.fig1_model, plots.fig2_framework])
def test_diagrams_draw_boxes_and_arrows_and_leave_the_title_to_the_caption(draw):
    fig = draw()
    assert fig.axes[0].get_title() == ""  # the book's numbered caption names the figure
    assert len(fig.axes[0].patches) > 5  # boxes and arrows
    fig.canvas.draw()


def test_fig3_heatmap_annotates_every_cell():
    moves = pd.DataFrame(np.eye(4) * 80 + 5, index=[e.capitalize() for e in EMOTIONS],
                         columns=[e.capitalize() for e in EMOTIONS])
    fig = plots.fig3_label_moves(moves)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 16 and "85.0" in texts


def test_truth_vs_gold_counts_are_the_annotations():
    matrix = pd.DataFrame([[3, 1, 0], [0, 2, 2]], index=["happiness", "anger"], columns=["happiness", "anger", "xxx"])
    fig = plots.truth_vs_gold(matrix)
    assert [t.get_text() for t in fig.axes[0].texts] == ["3", "1", "0", "0", "2", "2"]


def test_contours_and_attention_plot_the_tracks():
    f0 = np.array([0, 200, 210, 0, 190.0])
    fig = plots.contours({"anger": {"F0": f0, "loudness": np.ones(5)}, "sadness": {"F0": f0 / 2, "loudness": np.zeros(5)}})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    fig = plots.contours({"anger": {"F0": f0, "loudness": np.ones(5)}}, synthesised={"anger": f0 / 2})
    dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2  # the synthesised F0 and its legend entry
    assert np.allclose(dashed[0].get_ydata(), [np.nan, 100, 105, np.nan, 95], equal_nan=True)
    fig = plots.attention(np.full(5, 0.2), loudness=np.ones(5), f0=f0, title="x")
    assert len(fig.axes) == 3


def test_weights_by_class_splits_right_and_wrong_gold():
    job = {"condition": "L_w", "train": {"gold": [0, 1, 2, 3, 0], "truth": [0, 1, 2, 3, 2], "w": [1, 1, 1, 1, 2]}}
    fig = plots.weights_by_class([job])
    assert fig.axes[0].get_legend() is not None


def test_forest_draws_one_row_per_contrast_and_fills_the_real_ones():
    import pandas as pd

    from minisermeta import plots

    table = pd.DataFrame({"UA diff": [2.0, -1.0], "UA low": [0.5, -3.0], "UA high": [3.5, 1.0],
                          "UA p (Holm)": [0.01, 0.6]}, index=["a − b", "c − b"])
    fig = plots.forest({"vs gold": table, "vs truth": table.iloc[:1]})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c − b", "a − b"]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(markers) == 3 and sum(m.get_markerfacecolor() == "white" for m in markers) == 1
    fig = plots.forest({"vs gold": table}, reference={"c − b": -2.5, "not drawn": 1.0})
    crosses = [line for line in fig.axes[0].lines if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_data()) == [[-2.5], [0]]
    assert "paper" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_by_noise_draws_gold_and_the_learned_labels_at_each_noise():
    import pandas as pd

    from minisermeta import plots

    rows = {(n, name): {"gold right %": 100 - 10 * n, "learned right %": 95 - 5 * n, "test truth UA": 60 + k}
            for n in (0.0, 1.0, 2.0) for k, name in enumerate(("baseline", "adam 0.1, scale 1", "nested choice"))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    fig = plots.by_noise(table)
    left, right = fig.axes
    assert [line.get_label() for line in left.lines] == ["gold labels", "L + w, adam 0.1, scale 1",
                                                        "L + w, chosen on validation"]
    assert list(left.lines[0].get_ydata()) == [100, 90, 80]  # gold: the baseline row's gold right %
    assert list(left.lines[2].get_ydata()) == [95, 90, 85]
    assert list(right.lines[0].get_ydata()) == [60, 60, 60] and right.lines[0].get_label() == "baseline"


def test_distrust_draws_a_curve_per_method_and_a_column_per_utterance_shown():
    gold, truth = np.array([0, 1, 2, 3, 0, 1]), np.array([0, 1, 2, 0, 1, 1])  # utterances 3 and 4 are wrong
    views = {"flags": dict(trust=np.array([1, 1, 1, 0, 0, 1.0]), flagged=np.array([0, 0, 0, 1, 1, 0], bool),
                           gold=gold, truth=truth),
             "weights": dict(trust=np.array([0.1, 1, 1, 0.5, 0.2, 1]), flagged=None, gold=gold, truth=truth)}
    fig = plots.distrust(views)
    curves, grid = fig.axes
    assert [line.get_label() for line in curves.lines[1:] if not line.get_label().startswith("_")] == ["flags", "weights"]
    image = grid.images[0].get_array()
    assert image.shape == (2, 4)  # two methods; the two wrong labels and two right ones
    assert image[0, :2].tolist() == [1, 1] and image[0, 2:].tolist() == [0, 0]  # "flags" distrusts the wrong ones
    matplotlib.pyplot.close(fig)


def test_correction_by_noise_draws_a_line_per_method_where_its_column_is_defined():
    index = pd.MultiIndex.from_product([[0.0, 1.0, 2.0], ["flags", "weights"]], names=["annotator noise", "method"])
    table = pd.DataFrame({"wrong gold %": [0, 0, 10, 10, 20, 20],
                          "AUROC": [np.nan, np.nan, 0.8, 0.6, 0.7, 0.55],
                          "AUROC low": [np.nan, np.nan, 0.7, 0.5, 0.6, 0.5],
                          "AUROC high": [np.nan, np.nan, 0.9, 0.7, 0.8, 0.6],
                          "weight wrong/right": [np.nan, np.nan, 0.9, 1.0, 0.8, 1.1],
                          "weight wrong/right low": [np.nan, np.nan, 0.85, 0.9, 0.7, 1.0],
                          "weight wrong/right high": [np.nan, np.nan, 0.95, 1.1, 0.9, 1.2],
                          **{c: [v, np.nan] * 3 for c, v in (("precision", 30.0), ("recall", 40.0),
                                                               ("flagged %", 5.0))}}, index=index)
    fig = plots.correction_by_noise(table)
    auroc, ratio, precision, recall, flagged = fig.axes[:5]
    assert len(auroc.containers) == 2 and len(precision.containers) == 1  # "weights" flags no set
    bars = ratio.containers[0]  # the ratio's whiskers: its interval over sessions
    assert len(ratio.containers) == 2 and bars.has_yerr
    assert list(bars.lines[0].get_ydata()[1:]) == [0.9, 0.8]
    assert [segment[:, 1].tolist() for segment in bars.lines[2][0].get_segments()[1:]] == [[0.85, 0.95], [0.7, 0.9]]
    assert ratio.lines[-1].get_ydata()[0] == 1  # a method blind to which labels are wrong
    assert list(precision.lines[-1].get_ydata()) == [0, 10, 20]  # the share of wrong gold labels: random flags
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["flags", "weights",
                                                                  "wrong gold labels (flagging at random)"]
    matplotlib.pyplot.close(fig)
