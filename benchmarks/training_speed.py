"""Network-epoch throughput: the library against the straightforward loop a reader would write.

The straightforward loop: random batches of 32 padded to the batch's longest
utterance, the same BLSTM + attention with a bidirectional ``nn.LSTM`` fed
through ``pack_padded_sequence`` (the textbook way to keep padding out), Adam.
The library: ``train.Trainer.network_epoch`` (length-aware batches, the BLSTM
as two one-directional LSTMs over each utterance and its in-length reversal).

Both run side by side in this one process, on the same utterances (SynthEmo
lengths, random frames), with the same thread setting, alternating A/B/A/B so
that machine noise hits both. Then both models, starting from the same
weights, are fed the *same* batches and their loss trajectories compared.
Also prints the l/w epoch cost relative to a network epoch.

Run: ``.venv/bin/python benchmarks/training_speed.py [--utterances 880] [--epochs 2] [--threads N]``.
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

from minisermeta.dataset import Dataset, collate
from minisermeta.folds import Fold
from minisermeta.methods import CONDITIONS
from minisermeta.model import BLSTMAttention, ModelConfig
from minisermeta.settings import preset
from minisermeta.train import Trainer, set_seed


class Straightforward(nn.Module):
    """The same network written the textbook way: bidirectional nn.LSTM on packed sequences."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_features, config.fc_units)
        self.blstm = nn.LSTM(config.fc_units, config.lstm_units, batch_first=True, bidirectional=True)
        self.u = nn.Parameter(torch.zeros(2 * config.lstm_units))
        self.out = nn.Linear(2 * config.lstm_units, config.n_classes)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, lengths):
        T = x.shape[1]
        h = self.dropout(torch.relu(self.fc(x)))
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, _ = nn.utils.rnn.pad_packed_sequence(self.blstm(packed)[0], batch_first=True, total_length=T)
        h = self.dropout(h)
        valid = torch.arange(T) < lengths.unsqueeze(1)
        alpha = (h @ self.u).masked_fill(~valid, float("-inf")).softmax(dim=1)
        return self.out(self.dropout((alpha.unsqueeze(-1) * h).sum(dim=1)))

    def load_from(self, model: BLSTMAttention):
        """Copy the library model's weights (its two LSTMs are this one's two directions)."""
        state = {k: v for k, v in model.state_dict().items() if not k.startswith("lstm_")}
        for direction, suffix in ((model.lstm_forward, ""), (model.lstm_backward, "_reverse")):
            for name, value in direction.state_dict().items():
                state[f"blstm.{name}{suffix}"] = value
        self.load_state_dict(state)


def synthetic_dataset(n: int, seed: int = 0) -> Dataset:
    """n utterances with SynthEmo-like lengths (1-6 s at 100 frames/s), 10 speakers, random frames."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(100, 600, n)
    speakers = np.array([f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"])[np.arange(n) % 10]
    gold = rng.integers(0, 4, n)
    return Dataset(utterances=np.array([f"{s}_bench_{s[-1]}{i:04d}" for i, s in enumerate(speakers)]),
                   speakers=speakers, gold=gold, votes=np.eye(4, dtype=np.float32)[gold], truth=None,
                   frames=rng.normal(size=(lengths.sum(), 32)).astype(np.float32),
                   offsets=np.concatenate([[0], np.cumsum(lengths)]))


def straightforward_epoch(model, optimizer, data, train, weights, rng, batch_size=32) -> float:
    """Random batches padded to their longest utterance, eq. (6) with one-hot targets and fixed w."""
    model.train()
    order = rng.permutation(train)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        x, lengths = collate(data, batch, torch.device("cpu"))
        log_probs = model(x, lengths).log_softmax(-1)
        loss = (-log_probs.gather(1, torch.as_tensor(data.gold[batch])[:, None])[:, 0] / weights[batch]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return len(order)


def same_batches_losses(data, train, steps=8, batch_size=16):
    """Loss of each step when both implementations train from the same weights on the same batches.

    Dropout is off here: its masks are random draws (and the library draws them
    differently, see ``model.Dropout``), not arithmetic to compare.
    """
    rng = np.random.default_rng(1)
    batches = [rng.choice(train, batch_size, replace=False) for _ in range(steps)]
    config = ModelConfig(dropout=0.0)
    torch.manual_seed(0)
    ours = BLSTMAttention(config)
    theirs = Straightforward(config)
    theirs.load_from(ours)
    trajectories = []
    for model in (ours, theirs):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        losses = []
        for batch in batches:
            x, lengths = collate(data, batch, torch.device("cpu"))
            loss = nn.functional.cross_entropy(model(x, lengths), torch.as_tensor(data.gold[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        trajectories.append(np.array(losses))
    return trajectories


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=1100, help="corpus size; 8 of 10 speakers train")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs of each implementation")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = synthetic_dataset(args.utterances)
    train, valid, _ = Fold("Ses01F", "Ses01M").split(data)
    settings = preset("paper", device="cpu")
    trainer = Trainer(data, CONDITIONS["L_w"], train, valid, settings, set_seed(0))
    reference = Straightforward(settings.model)
    reference.load_from(trainer.model)
    ref_optimizer = torch.optim.Adam(reference.parameters(), lr=settings.lr)
    weights = torch.ones(len(data))
    rng = np.random.default_rng(0)

    ours_s, theirs_s, lw_s = [], [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        straightforward_epoch(reference, ref_optimizer, data, train, weights, rng)
        theirs_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        trainer.network_epoch()
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        trainer.method.end_epoch("train")  # the l/w epoch
        lw_s.append(time.perf_counter() - start)
    frames = data.lengths[train].sum()
    print(f"{len(train)} training utterances ({frames} frames), paper model (FC 512, BLSTM 128/direction), "
          f"batch 32, {args.threads} thread(s), best of {args.epochs} epochs each")
    print(f"straightforward network epoch: {min(theirs_s):6.1f} s  {len(train) / min(theirs_s):6.1f} utterances/s")
    print(f"library network epoch:         {min(ours_s):6.1f} s  {len(train) / min(ours_s):6.1f} utterances/s")
    print(f"speed-up: {min(theirs_s) / min(ours_s):.2f}x")
    print(f"l/w epoch: {min(lw_s):.1f} s = {min(lw_s) / min(ours_s):.2f}x a library network epoch")

    ours, theirs = same_batches_losses(data, train)
    print("same batches, same start: loss per step")
    print("  library:        " + " ".join(f"{v:.6f}" for v in ours))
    print("  straightforward:" + " ".join(f"{v:.6f}" for v in theirs))
    print(f"  max |difference| = {np.abs(ours - theirs).max():.2e}")


if __name__ == "__main__":
    main()
