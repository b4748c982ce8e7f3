"""The settings of a training job (:class:`Settings`) and the named presets.

Every choice the paper leaves open is a field here, with the paper's reading
as the default, so a grid is (method, fold, seed, settings) and nothing else.
A method's own hyper-parameters (which targets, what it learns) are fields of
its class in ``methods``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .environment import quick_mode
from .model import ModelConfig


@dataclass(frozen=True)
class Settings:
    max_epochs: int = 40  # network epochs (iterations of Algorithm 1) at most, per phase
    patience: int = 5  # network epochs without a lower validation loss before stopping
    batch_size: int = 32  # utterances per network step
    lr: float = 1e-3  # Adam learning rate of the network (the paper names Adam, not its rate)
    label_scale: float = 1.0  # l_n = scale * one-hot(gold) at the start; 1 is the paper's text (meta.init_label_logits)
    lr_labels: float = 0.1  # learning rate of l (optimiser: lw_optimizer); with Adam, about how far a label logit moves per l/w epoch
    lr_weights: float = 0.05  # Adam learning rate of log w: about how far log w_n moves per l/w epoch
    lw_steps: int = 1  # full-batch steps per l/w epoch (1: every l_n, w_n updated once, as in one data pass)
    lw_optimizer: str = "adam"  # of l (w keeps Adam): "adam" moves every l_n by about lr_labels per step however
    #   sure the network is; "sgd" (PENCIL's optimiser) by its gradient (meta.LabelWeights.configure_optimizer)
    lw_dropout: bool = False  # dropout on in the l/w epoch's inference pass (False: eval mode, deterministic)
    model: ModelConfig = field(default_factory=ModelConfig)  # the network of Fig. 1
    device: str = "auto"  # "auto": CUDA when present, else CPU
    fold_seeds: bool = True  # seed each job from (seed, fold) (folds.job_seed); False: every fold from the seed itself
    amp: bool = True  # on CUDA, run the network in bfloat16 autocast (losses, l and w stay float32); no effect on CPU

    def __post_init__(self):
        for name in ("max_epochs", "patience", "batch_size", "lw_steps"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"Settings.{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.lw_optimizer not in ("adam", "sgd"):
            raise ValueError(f"Settings.lw_optimizer must be 'adam' or 'sgd', got {self.lw_optimizer!r}")


PRESETS = {
    # A laptop/CI mode, like nanoGPT's small CPU mode: a narrower network (FC 128,
    # BLSTM 64 per direction; about 6x cheaper per frame) and 3 epochs, so every
    # condition runs end to end in minutes. Its numbers show the pipeline, not the method.
    "quick": Settings(max_epochs=3, patience=2, model=ModelConfig(fc_units=128, lstm_units=64)),
    # The paper's setup: train to early stopping on the validation speaker.
    "paper": Settings(),
    # The paper's training (to early stopping) on a narrower network (FC 64, BLSTM 32 per
    # direction; about 25x fewer multiply-adds per frame than the paper's): the study's seed sweep
    # on a CPU (chapter 9 compares its verdicts with the paper preset's), and the CPU's default.
    "small": Settings(model=ModelConfig(fc_units=64, lstm_units=32)),
}


def preset_name(name: str | None = None) -> str:
    """``name`` checked, or the default: ``quick`` in quick mode (``environment.quick_mode``), else
    ``paper`` where PyTorch sees a GPU and ``small`` on a CPU (the paper preset's grid is hours there).

    The one place that resolves the default preset (the CLI, ``reproduce`` and
    the book all call it).
    """
    if not name:
        import torch

        name = "quick" if quick_mode() else "paper" if torch.cuda.is_available() else "small"
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return name


def preset(name: str | None = None, **overrides) -> Settings:
    """A preset by name (default: :func:`preset_name`), with single fields overridden (``max_epochs=2``)."""
    unknown = sorted(set(overrides) - set(Settings.__dataclass_fields__))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; choose from {sorted(Settings.__dataclass_fields__)}")
    return replace(PRESETS[preset_name(name)], **overrides)
