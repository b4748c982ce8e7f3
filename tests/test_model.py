import torch

from minisermeta.model import BLSTMAttention, ModelConfig

torch.manual_seed(0)


def make_model():
    model = BLSTMAttention(ModelConfig()).eval()
    with torch.no_grad():  # a non-uniform attention, unlike the zero start
        model.u.normal_()
    return model


def test_output_shape_and_probabilities():
    model = make_model()
    x, lengths = torch.randn(3, 40, 32), torch.tensor([40, 25, 7])
    logits = model(x, lengths)
    assert logits.shape == (3, 4)
    torch.testing.assert_close(model.predict_proba(x, lengths).sum(-1), torch.ones(3))


def test_lstm_units_are_per_direction():
    model = BLSTMAttention(ModelConfig(lstm_units=16))
    assert model.u.shape == (32,)
    assert model.out.in_features == 32


def test_padding_does_not_change_output():
    model = make_model()
    x = torch.randn(1, 30, 32)
    alone = model(x, torch.tensor([30]))
    # whatever the padding holds, it must not matter
    padded = torch.cat([x, torch.randn(1, 50, 32)], dim=1)
    torch.testing.assert_close(model(padded, torch.tensor([30])), alone, rtol=1e-4, atol=1e-5)
    zeros = torch.cat([x, torch.zeros(1, 50, 32)], dim=1)
    torch.testing.assert_close(model(zeros, torch.tensor([30])), alone, rtol=1e-4, atol=1e-5)


def test_batching_with_a_longer_utterance_does_not_change_output():
    model = make_model()
    short, long = torch.randn(30, 32), torch.randn(80, 32)
    alone = model(short[None], torch.tensor([30]))
    batch = torch.zeros(2, 80, 32)
    batch[0, :30], batch[1] = short, long
    logits = model(batch, torch.tensor([30, 80]))
    torch.testing.assert_close(logits[:1], alone, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(logits[1:], model(long[None], torch.tensor([80])), rtol=1e-4, atol=1e-5)


def test_attention_sums_to_one_over_valid_frames_and_is_zero_on_padding():
    model = make_model()
    lengths = torch.tensor([20, 13, 5])
    _, alpha = model(torch.randn(3, 20, 32), lengths, return_attention=True)
    assert alpha.shape == (3, 20)
    torch.testing.assert_close(alpha.sum(1), torch.ones(3))
    for b, n in enumerate(lengths):
        assert (alpha[b, n:] == 0).all()
        assert (alpha[b, :n] > 0).all()
    assert alpha[0].std() > 0  # not just the uniform mean


def test_gradients_reach_every_parameter():
    model = BLSTMAttention().train()
    logits = model(torch.randn(4, 15, 32), torch.tensor([15, 10, 3, 1]))
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
