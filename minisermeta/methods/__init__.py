"""What a training job learns from: every condition of Table 2, each control and comparison method, behind one interface.

One module per family: ``base`` (the interface), ``labels_weights`` (the
paper's methods, its baselines and the study's controls), and the methods the
book compares them with: ``robust_loss`` (generalized cross-entropy),
``co_teaching``, ``meta_weight_net`` and ``confident_learning`` (cleanlab).

``train.Trainer`` runs the one loop of Algorithm 1 and knows no method by
name; it calls a :class:`Method`'s hooks::

    method.setup(trainer)                     once, after the network is built
    for phase in method.phases:               each phase trains to early stopping
        method.start_phase(phase)
        each network epoch:
            method.epoch_utterances(rng)      the training utterances of the epoch
            method.loss(logits, batch)        the loss of one batch (eq. 6 for the paper's methods)
            method.end_epoch(phase)           after validation: the paper's l/w epoch lives here
            (method.end_epoch_inputs(phase)   what end_epoch infers, which a batched trainer precomputes)
        method.state_dict() / load_state_dict(state)   kept and restored with the best network
    method.record()                           what the job's JSON stores of the training utterances

``batched.BatchedTrainer`` calls the same hooks for many jobs at once, with
the logits of a stacked network; a method whose loss differentiates through
the job's own network (Meta-Weight-Net's look-ahead) says ``batchable = False``.

A method's hyper-parameters are its constructor arguments (dataclass fields);
what it learns in a job is set up by ``setup`` and ends in ``_``, as in
scikit-learn. The trainer works on its own copy, so one instance can serve a
whole grid, and instances pickle, so any joblib backend can ship them. A new
method is one class (or one instance of an existing class) added to
:data:`CONDITIONS`; nothing else changes.
"""

from __future__ import annotations

from .. import paper
from .base import Batch, Method, resample, rounded
from .co_teaching import CoTeaching
from .confident_learning import ConfidentLearning
from .labels_weights import FixedTargets, LearnedLabelsWeights
from .meta_weight_net import MetaWeightNet
from .robust_loss import GeneralizedCrossEntropy


_names = paper.METHOD_NAMES

# The paper's rows of Table 2 that we run (Cycle-GAN stays a quoted row), in the paper's order.
PAPER_CONDITIONS = {
    # Mirsamadi et al.: gold one-hot targets, eq. (4) class weights kept fixed.
    "blstm_att": FixedTargets(title=_names["blstm_att"]),
    # "oversampling or undersampling instead of w": uniform weights, balanced resampling.
    "oversampling": FixedTargets(class_weighted=False, sampling="over", title=_names["oversampling"]),
    "undersampling": FixedTargets(class_weighted=False, sampling="under", title=_names["undersampling"]),
    # Stands in for Ando et al.'s Soft-target, which the paper could only quote: the annotators' vote
    # proportions as targets. Ando et al. also train on the utterances without a majority label; the
    # paper's class set leaves those out, so this row does not, and is named for what it is.
    "soft_target": FixedTargets(targets="votes", title="BLSTM + ATT + vote proportions"),
    # "only updating L, while keeping w fixed"
    "L": LearnedLabelsWeights(learn_weights=False, title=_names["L"]),
    # "only updating w, while keeping L equal to the gold standard labels": s_n = softmax(l_n), l_n fixed
    "w": LearnedLabelsWeights(learn_labels=False, title=_names["w"]),
    "L_w_pretrained": LearnedLabelsWeights(pretrain=True, title=_names["L_w_pretrained"]),
    "L_w": LearnedLabelsWeights(title=_names["L_w"]),
}

CONDITIONS = {
    **PAPER_CONDITIONS,
    # Controls. Everything of L + w except the learning: the targets softmax(label_scale * one-hot)
    # and eq. (4) weights, both fixed. What L + w gains beyond label smoothing is L + w minus this.
    "smoothed": FixedTargets(targets="smoothed", title="BLSTM + ATT + smoothed targets"),
    # The pretrained variant's schedule (train to early stopping, then again) without learning l or w:
    # what L + w pretrained gains beyond its extra epochs is L + w pretrained minus this.
    "smoothed_pretrained": FixedTargets(targets="smoothed", pretrain=True,
                                        title="BLSTM + ATT + smoothed targets, pretrained"),
    # The pretrained variant as the paper describes it: pretrained "with the original labels" (one-hot gold).
    "L_w_pretrained_gold": LearnedLabelsWeights(pretrain=True, pretrain_targets="gold",
                                                title="BLSTM + ATT + L + w pretrained on one-hot gold"),
}

# The default grid of the `small` preset, a CPU's default (settings.preset_name): the paper's method, its baseline, and
# the control that separates learning l and w from training on smoothed targets (the study's headline contrast). Ten
# folds of these three end within 20 minutes on 2 cores (`make reproduce`: 9.4 min from a fresh clone; Table 2's eight
# take more than twice as long). They are the (condition, fold, seed) jobs of results/study-small's seed 0; another
# CPU reproduces those to float rounding for the first epochs, then training drifts apart (5 of 30 jobs identical).
LAPTOP_CONDITIONS = ("blstm_att", "smoothed", "L_w")

# The methods a course compares the paper's with (chapter "Other ways to learn from ambiguous labels"). Each is the
# baseline (gold one-hot targets, eq. 4 weights) with one change; label smoothing is the "smoothed" control above.
ALTERNATIVES = {
    "gce": GeneralizedCrossEntropy(),
    "co_teaching": CoTeaching(),
    "meta_weight_net": MetaWeightNet(),
    "cl_drop": ConfidentLearning(action="drop"),
    "cl_relabel": ConfidentLearning(action="relabel"),
}
# Co-teaching's forget rate: Han et al. set it to the share of wrong labels, which they know and an emotion corpus
# does not; the book chooses it on validation speakers among these (``comparison.forget_rates``).
FORGET_RATES = {
    "co_teaching_forget0.1": CoTeaching(forget_rate=0.1, title="BLSTM + ATT + co-teaching (forget rate 0.1)"),
    "co_teaching": ALTERNATIVES["co_teaching"],
    "co_teaching_forget0.4": CoTeaching(forget_rate=0.4, title="BLSTM + ATT + co-teaching (forget rate 0.4)"),
}
CONDITIONS.update({**ALTERNATIVES, **FORGET_RATES})


def resolve(conditions=None) -> dict[str, Method]:
    """``{name: method}`` for condition names of :data:`CONDITIONS` (default: the paper's), or a dict passed on."""
    if isinstance(conditions, dict):
        wrong = sorted(name for name, method in conditions.items() if not isinstance(method, Method))
        if wrong:
            raise ValueError(f"condition(s) {wrong} are not minisermeta.methods.Method instances")
        return dict(conditions)
    names = [conditions] if isinstance(conditions, str) else list(PAPER_CONDITIONS if conditions is None else conditions)
    unknown = sorted(set(names) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; choose from {sorted(CONDITIONS)}")
    if not names:
        raise ValueError(f"no condition given; choose from {sorted(CONDITIONS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"condition(s) {repeated} given more than once")
    return {name: CONDITIONS[name] for name in names}

