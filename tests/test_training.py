"""posthoc.networks and posthoc.training: architecture, gradients, optimiser, invariants."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from posthoc import PaperNet, Split, train_network, train_networks
from posthoc.network_files import network_path, read_network
from posthoc.stacked import StackedNets, adam_step
from posthoc.training import cache_dir, cache_key


def synthetic(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    a = (rng.random(n) < 0.6).astype(int)
    y = ((X[:, 0] + 0.8 * a + 0.5 * rng.normal(size=n)) > 0.4).astype(int)
    X[:, -1] = a
    return Split(X, y, a)


def test_paper_net_architecture():
    net = PaperNet(98)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    dropouts = [m for m in net.modules() if isinstance(m, nn.Dropout)]
    assert [tuple(m.weight.shape) for m in linears] == [(32, 98)] + [(32, 32)] * 10 + [(1, 32)]
    assert len(norms) == 11 and all(m.p == 0.2 for m in dropouts) and len(dropouts) == 11
    wide = PaperNet(10, width=64, depth=20, dropout=0.5)
    assert sum(isinstance(m, nn.Linear) for m in wide.modules()) == 22
    out = net.eval()(torch.randn(7, 98))
    assert out.shape == (7,) and bool(((out >= 0) & (out <= 1)).all())


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_features=0), r"^n_features"), (dict(n_features=3, width=0), r"^width"),
    (dict(n_features=3, depth=-1), r"^depth"), (dict(n_features=3, dropout=1.0), r"^dropout"),
])
def test_paper_net_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PaperNet(**kwargs)


def test_hand_written_gradient_matches_autograd():
    torch.manual_seed(0)
    S, B, d, width, depth = 3, 16, 7, 5, 2
    nets = StackedNets(d, width, depth, [0, 1, 2])
    flat = nets.flat.clone().double()
    x = torch.randn(S, B, d, dtype=torch.float64)
    y = (torch.rand(S, B) > 0.5).double()
    keep = torch.rand(S, depth + 1, B, width) < 0.8
    ours = (nets.running_mean.clone().double(), nets.running_var.clone().double())
    ref = (nets.running_mean.clone().double(), nets.running_var.clone().double())
    loss, grad = nets.train_step_grad(flat, x, y, keep.double() / 0.8, running=ours)
    leaf = flat.clone().requires_grad_(True)
    logits = nets.forward(x, train=True, masks=keep.double() / 0.8, flat=leaf, running=ref)
    ref_loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(1).sum()
    (ref_grad,) = torch.autograd.grad(ref_loss, leaf)
    assert float(loss) == pytest.approx(float(ref_loss.detach()), abs=1e-12)
    assert torch.allclose(grad, ref_grad, atol=1e-12)
    assert torch.allclose(ours[0], ref[0], atol=1e-12) and torch.allclose(ours[1], ref[1])


def test_stacked_forward_matches_paper_net():
    part = synthetic()
    nets = StackedNets(part.X.shape[1], 8, 2, [4, 5])
    flat = nets.flat
    running = (torch.rand_like(nets.running_mean), torch.rand_like(nets.running_var) + 0.5)
    X = torch.from_numpy(part.X)
    stacked = nets.forward(X, train=False, flat=flat, running=running)
    for index in range(2):
        net = PaperNet(part.X.shape[1], width=8, depth=2).eval()
        net.load_state_dict(nets.state_dict(index, flat, running))
        with torch.no_grad():
            assert torch.allclose(net.logits(X), stacked[index], atol=1e-5)


def test_adam_step_matches_torch_optim():
    torch.manual_seed(1)
    params = torch.randn(2, 5)
    reference = params.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([reference])
    exp_avg, exp_avg_sq = torch.zeros_like(params), torch.zeros_like(params)
    for step in range(1, 8):
        grad = torch.randn(2, 5)
        reference.grad = grad.clone()
        optimiser.step()
        adam_step(params, grad, exp_avg, exp_avg_sq, lr=torch.full((2, 1), 1e-3), step=step)
    assert torch.equal(params, reference.detach())


def _states_equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_seed_does_not_depend_on_its_companions():
    # A small training split and a separate validation split: networks overfit, so early
    # stopping takes them out of the batch at different epochs.
    train, valid = synthetic(n=150, seed=0), synthetic(n=150, seed=1)
    # Width 32: a one-network matrix-vector product takes another kernel at this size.
    options = dict(width=32, depth=2, max_epochs=300, cache=False, progress=False)
    # Seeds 0, 3, 7 in one batched computation; then shared out between two processes
    # (seed 3 trains alone in one of them); then seed 3 on its own.
    together, logs = train_networks((train, valid), seeds=[0, 3, 7], return_logs=True,
                                    workers=1, **options)
    shared = train_networks((train, valid), seeds=[0, 3, 7], workers=2, **options)
    alone = train_networks((train, valid), seeds=[3], workers=1, **options)[0]
    assert _states_equal(together[1], alone) and _states_equal(shared[1], alone)
    assert _states_equal(together[0], shared[0])
    # Early stopping had networks leave the batch at different epochs.
    assert any(log.stopped_early for log in logs)
    assert not _states_equal(together[0], together[1])


def test_a_lone_network_stops_early_and_keeps_its_best_weights():
    train, valid = synthetic(n=150, seed=0), synthetic(n=150, seed=1)
    nets, logs = train_networks((train, valid), seeds=[5], width=8, depth=2, max_epochs=1001,
                                cache=False, progress=False, workers=1, return_logs=True)
    log = logs[0]
    assert log.stopped_early and log.epochs < 1001
    # Stopped after more than 10 checks (every 10 epochs) without improvement.
    assert log.epochs == log.best_epoch + 10 * 11 + 1
    assert log.best_valid_loss == pytest.approx(min(log.valid_losses[::10]))
    net = nets[0]
    with torch.no_grad():
        logits = net.logits(torch.from_numpy(valid.X))
    restored = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(valid.y).float())
    assert float(restored) == pytest.approx(log.best_valid_loss, rel=1e-5)


def test_restore_final_keeps_the_weights_the_network_stopped_with():
    # The authors' uncopied state_dict: an early-stopped network keeps its final weights,
    # which are those of a run without early stopping cut at the same epoch.
    train, valid = synthetic(n=150, seed=0), synthetic(n=150, seed=1)
    options = dict(seeds=[5], width=8, depth=2, cache=False, progress=False, workers=1,
                   return_logs=True)
    best, best_logs = train_networks((train, valid), max_epochs=1001, **options)
    final, logs = train_networks((train, valid), max_epochs=1001, restore="final", **options)
    assert logs[0].stopped_early and logs[0].epochs == best_logs[0].epochs
    cut, _ = train_networks((train, valid), max_epochs=logs[0].epochs, early_stopping=False,
                            **options)
    assert _states_equal(final[0], cut[0]) and not _states_equal(final[0], best[0])
    assert logs[0].best_valid_loss == logs[0].valid_losses[-1] > best_logs[0].best_valid_loss


def test_same_seed_same_network_and_the_cache(isolated_cache):
    part = synthetic(seed=2)
    options = dict(width=8, depth=1, max_epochs=5, progress=False)
    first, logs = train_networks((part, part), seeds=[11], return_logs=True, **options)
    assert not logs[0].from_cache
    # One file for the best weights, one for the final ones: the same training gives both.
    files = list(cache_dir().glob("*.safetensors"))
    assert len(files) == 2 and cache_dir() == isolated_cache
    assert all(read_network(path)[0] for path in files)
    final, logs = train_networks((part, part), seeds=[11], restore="final", return_logs=True,
                                 **options)
    assert logs[0].from_cache
    assert _states_equal(final[0], train_networks((part, part), seeds=[11], restore="final",
                                                  cache=False, **options)[0])
    again, logs = train_networks((part, part), seeds=[11], return_logs=True, **options)
    assert logs[0].from_cache and _states_equal(first[0], again[0])
    fresh = train_networks((part, part), seeds=[11], cache=False, **options)
    assert _states_equal(first[0], fresh[0])
    other = train_networks((part, part), seeds=[11], cache=False,
                           **{**options, "max_epochs": 6})
    assert not _states_equal(first[0], other[0])


def test_a_corrupted_cache_file_is_retrained(isolated_cache):
    part = synthetic(seed=3)
    options = dict(width=4, depth=1, max_epochs=2, progress=False)
    train_networks((part, part), seeds=[1], **options)
    key = cache_key(part, part, seed=1, width=4, depth=1, dropout=0.2, max_epochs=2,
                    early_stopping=True)
    path = network_path(cache_dir(), key)
    path.write_bytes(b"not a checkpoint")
    with pytest.warns(RuntimeWarning, match=rf"network cache file .*{path.name} is unreadable"):
        _, logs = train_networks((part, part), seeds=[1], return_logs=True, **options)
    assert not logs[0].from_cache
    assert read_network(path)[0]


def test_training_learns_compas(datasets):
    dataset = datasets["compas-race"]
    # The deep network sits on a plateau for its first epochs on COMPAS; within 40 epochs
    # most seeds leave it, and which ones depends on the processor's last bits (measured:
    # seed 0 stays at the majority rate on an AMD EPYC, seeds 0 and 2 on an Intel Xeon, the
    # other four of seeds 0-5 gain 0.11-0.14 there), so the test asks it of four of six
    # seeds, trained together in one process.
    nets = train_networks(dataset, seeds=list(range(6)), max_epochs=40, progress=False,
                          workers=1)
    assert not any(net.training for net in nets)
    majority = max(dataset.test.y.mean(), 1 - dataset.test.y.mean())
    learnt = 0
    for net in nets:
        with torch.no_grad():
            scores = net(torch.from_numpy(dataset.test.X)).numpy()
        learnt += ((scores > 0.5) == dataset.test.y).mean() > majority + 0.04
    assert learnt >= 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(seeds=[]), r"^seeds must not be empty"),
    (dict(seeds=[1, 1]), r"^seeds must not repeat"),
    (dict(seeds=[-1]), r"^seeds must be"),
    (dict(seeds=[0], width=0), r"^width"),
    (dict(seeds=[0], dropout=1.5), r"^dropout"),
    (dict(seeds=[0], max_epochs=0), r"^max_epochs"),
    (dict(seeds=[0], workers=0), r"^workers"),
    (dict(seeds=[0], restore="last"), r"^restore must be 'best' or 'final'; got 'last'"),
])
def test_training_errors(kwargs, match):
    part = synthetic()
    with pytest.raises(ValueError, match=match):
        train_networks((part, part), progress=False, cache=False, **kwargs)


def test_dataset_argument_is_checked():
    with pytest.raises(ValueError, match=r"^dataset must be"):
        train_network("adult-sex")
