"""Training the paper's network as the authors did, for many seeds at once, with a disk cache.

The authors trained one network at a time (Adam, ReduceLROnPlateau on the validation loss,
minibatches of 64, binary cross-entropy, early stopping checked every 10 epochs, at most 1001
epochs). :func:`train_networks` trains several seeds in one computation: the weights of all
seeds are stacked and every layer is one batched matrix product, so the per-step overhead of
the framework is paid once for all seeds. Each seed has its own random streams (initial
weights, minibatch order, dropout masks), its own optimiser state, learning-rate schedule and
early stopping, so a seed's network does not depend on which other seeds train beside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import queue as queue_module
import warnings
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .network_files import cache_dir, network_path, read_network, save_network
from . import numerics
from .validation import check_positive_int, check_probability, check_seeds, error_summary
from .workers import process_pool
from .data import Dataset, Split
from .networks import PaperNet

#: Bump when the training algorithm changes, so that cached networks are not reused.
TRAINING_VERSION = 3
BATCH_SIZE = 64
MAX_EPOCHS = 1001
CHECK_EVERY = 10          # early-stopping check interval, in epochs
PATIENCE_CHECKS = 10      # stop after more than this many checks without improvement
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
ADAM_LR = 1e-3
PLATEAU_FACTOR = 0.1      # ReduceLROnPlateau defaults
PLATEAU_PATIENCE = 10
PLATEAU_THRESHOLD = 1e-4
PLATEAU_EPS = 1e-8


@dataclass
class TrainingLog:
    """What happened while training one network."""

    seed: int
    epochs: int
    best_epoch: int
    best_valid_loss: float
    stopped_early: bool
    final_lr: float
    from_cache: bool = False
    valid_losses: list[float] = field(default_factory=list, repr=False)
    #: The numerical setting, processor and torch that trained it (:mod:`posthoc.numerics`).
    numerics: str = ""
    processor: str = ""
    torch: str = ""


def _generator(seed: int, stream: int) -> torch.Generator:
    """An independent torch random stream per seed and purpose (0: initial weights,
    1: minibatch order); dropout masks come from a numpy stream of their own."""
    return torch.Generator().manual_seed(int(seed) * 7919 + stream)


_ROW_ALIGN = 64


def _rowwise(fn, t: torch.Tensor) -> torch.Tensor:
    """Apply an elementwise ``fn`` to (S, ..., n) with each network's rows padded to 64.

    PyTorch's CPU loops compute transcendental functions (sigmoid, exp, log) slightly
    differently in their vectorised body and their scalar tail. Padding the last axis to a
    multiple of 64 puts every element of every network in the vectorised body, so a network's
    numbers do not depend on how many networks are stacked with it.
    """
    n = t.shape[-1]
    padded = F.pad(t, (0, (-n) % _ROW_ALIGN))
    return fn(padded)[..., :n]


def _bce_per_network(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of each network's logits (S, n) against labels (n,)."""
    losses = _rowwise(lambda z: F.binary_cross_entropy_with_logits(
        z, F.pad(y, (0, z.shape[-1] - y.shape[-1])).expand_as(z), reduction="none"), logits)
    return losses.mean(1)


def _head(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The one-unit output layer as multiply-and-sum: (S, B, w) -> (S, B) logits.

    A matrix-vector ``bmm`` takes a different kernel depending on the number of stacked
    networks, which would make a network depend on its companions in the last bits.
    """
    return (h * weight[:, None, :, 0]).sum(-1) + bias


class _StackedNets:
    """Parameters of S networks stacked along a leading axis, in one flat leaf tensor.

    Linear weights are stored as (in, out) so that a layer is ``baddbmm(bias, h, W)``; the
    flat leaf makes the optimiser a handful of tensor operations for all seeds together.
    """

    def __init__(self, n_features: int, width: int, depth: int, seeds: Sequence[int]):
        self.n_features, self.width, self.depth = n_features, width, depth
        self.shapes: list[tuple[str, tuple[int, ...]]] = []
        fan_in = n_features
        for layer in range(depth + 1):
            self.shapes += [(f"body.{4 * layer}.weight", (fan_in, width)),
                            (f"body.{4 * layer}.bias", (width,)),
                            (f"body.{4 * layer + 3}.weight", (width,)),
                            (f"body.{4 * layer + 3}.bias", (width,))]
            fan_in = width
        self.shapes += [("head.weight", (width, 1)), ("head.bias", (1,))]
        self.sizes = [math.prod(shape) for _, shape in self.shapes]
        # Each network's row is padded to a multiple of 64 values (kept at zero), so that
        # every row meets the same vectorised code paths whatever its position in the stack.
        self.n_params = sum(self.sizes)
        self.row_length = -(-self.n_params // _ROW_ALIGN) * _ROW_ALIGN
        rows = [F.pad(self._init_one(seed), (0, self.row_length - self.n_params))
                for seed in seeds]
        self.flat = torch.stack(rows)
        n_layers = depth + 1
        # (layer, network, unit): each layer's statistics are one contiguous buffer that
        # F.batch_norm updates in place for all networks.
        self.running_mean = torch.zeros(n_layers, len(seeds), width)
        self.running_var = torch.ones(n_layers, len(seeds), width)

    def _init_one(self, seed: int) -> torch.Tensor:
        """PyTorch's default initialisation, drawn from the seed's own stream."""
        gen = _generator(seed, 0)

        def uniform(shape, fan_in):
            # nn.Linear's default: kaiming_uniform(a=sqrt(5)) for weights, the same bound
            # 1/sqrt(fan_in) for biases.
            bound = 1.0 / math.sqrt(fan_in)
            return torch.empty(shape).uniform_(-bound, bound, generator=gen)

        parts = []
        fan_in = self.n_features
        for _ in range(self.depth + 1):
            parts += [uniform((self.width, fan_in), fan_in).T, uniform((self.width,), fan_in),
                      torch.ones(self.width), torch.zeros(self.width)]
            fan_in = self.width
        parts += [uniform((1, self.width), self.width).T, uniform((1,), self.width)]
        return torch.cat([p.reshape(-1) for p in parts])

    def views(self, flat: torch.Tensor | None = None) -> list[torch.Tensor]:
        flat = self.flat if flat is None else flat
        out, offset = [], 0
        for (_, shape), size in zip(self.shapes, self.sizes):
            out.append(flat[:, offset:offset + size].reshape((flat.shape[0],) + shape))
            offset += size
        return out

    def forward(self, x: torch.Tensor, *, train: bool, masks: torch.Tensor | None = None,
                flat: torch.Tensor | None = None, running: tuple | None = None) -> torch.Tensor:
        """Logits of every network; ``x`` is (S, B, d) or (N, d) shared by all networks."""
        params = self.views(flat)
        running_mean, running_var = running or (self.running_mean, self.running_var)
        n_nets = params[0].shape[0]
        h = x
        for layer in range(self.depth + 1):
            weight, bias, scale, shift = params[4 * layer: 4 * layer + 4]
            if h.ndim == 2:
                h = torch.matmul(h, weight) + bias[:, None, :]
            else:
                h = torch.baddbmm(bias[:, None, :], h, weight)
            h = torch.relu(h)
            if masks is not None:
                h = h * masks[:, layer]
            if train:
                rows = h.shape[1]
                wide = h.transpose(0, 1).reshape(rows, n_nets * self.width)
                wide = F.batch_norm(wide, running_mean[layer].view(-1),
                                    running_var[layer].view(-1), scale.reshape(-1),
                                    shift.reshape(-1), training=True, momentum=BN_MOMENTUM,
                                    eps=BN_EPS)
                h = wide.reshape(rows, n_nets, self.width).transpose(0, 1)
            else:  # unfused, correctly rounded operations only (see _rowwise)
                inv_std = running_var[layer].add(BN_EPS).sqrt_().reciprocal_()
                h = ((h - running_mean[layer][:, None, :]) * (inv_std * scale)[:, None, :]
                     + shift[:, None, :])
        return _head(h, *params[-2:])

    def train_step_grad(self, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                        gates: torch.Tensor | None, *, batch_stats: tuple | None = None,
                        running: tuple | None = None,
                        grad: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss and gradient of one training minibatch per network, by a hand-written pass.

        Equivalent to ``forward(train=True)`` + BCE (mean over the minibatch, summed over
        networks) + autograd, with a fraction of the per-step overhead.

        Parameters
        ----------
        gates : (S, layers, B, width) float or None
            Dropout masks already divided by the keep probability.
        batch_stats : (means, variances), each (layers, S, 1, width), optional
            Receive each layer's batch mean and biased variance, for the caller to fold into
            the running statistics later (:func:`fold_running_stats`).
        running : (running_mean, running_var), optional
            Running statistics to update now instead.
        """
        params = self.views(flat)
        n_nets, rows = x.shape[0], x.shape[1]
        n_layers = self.depth + 1
        if batch_stats is None:
            batch_stats = (torch.empty(n_layers, n_nets, 1, self.width, dtype=x.dtype),
                           torch.empty(n_layers, n_nets, 1, self.width, dtype=x.dtype))
        means, variances = batch_stats
        saved = []
        h = x
        for layer in range(n_layers):
            weight, bias, scale, shift = params[4 * layer: 4 * layer + 4]
            z = torch.baddbmm(bias[:, None, :], h, weight)
            gate = (z > 0) * gates[:, layer] if gates is not None else (z > 0).to(z.dtype)
            u = z.mul_(gate)
            mean = torch.mean(u, 1, keepdim=True, out=means[layer])
            centred = u.sub_(mean)
            var = torch.mean(centred.square(), 1, keepdim=True, out=variances[layer])
            inv_std = var.add(BN_EPS).sqrt_().reciprocal_()
            x_hat = centred.mul_(inv_std)
            saved.append((h, gate, x_hat, inv_std))
            h = x_hat * scale[:, None, :] + shift[:, None, :]
        if running is not None:
            fold_running_stats(running, means[None], variances[None], [rows])
        head_weight, head_bias = params[-2:]
        logits = _head(h, head_weight, head_bias)
        loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(1).sum()

        # Gradients are written straight into the views of one (S, P) buffer.
        grad = torch.zeros_like(flat) if grad is None else grad
        grads = self.views(grad)
        g_out = ((_rowwise(torch.sigmoid, logits) - y) / rows).unsqueeze(-1)  # (S, B, 1)
        # A sum, not a matrix-vector bmm: bmm of one network takes another kernel (see _head).
        torch.sum(h * g_out, 1, out=grads[-2][..., 0])
        torch.sum(g_out, 1, out=grads[-1])
        g = torch.bmm(g_out, head_weight.transpose(1, 2))
        for layer in range(self.depth, -1, -1):
            weight, _, scale, _ = params[4 * layer: 4 * layer + 4]
            h_in, gate, x_hat, inv_std = saved[layer]
            d_scale, d_shift = grads[4 * layer + 2], grads[4 * layer + 3]
            torch.sum(g * x_hat, 1, out=d_scale)
            torch.sum(g, 1, out=d_shift)
            # BatchNorm: g_u = scale * inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),
            # with the means taken from the two sums above.
            g_u = g.sub_(d_shift[:, None, :] / rows).sub_(x_hat * (d_scale[:, None, :] / rows))
            g_z = g_u.mul_(gate * (inv_std * scale[:, None, :]))
            grads[4 * layer].copy_(torch.bmm(h_in.transpose(1, 2), g_z))
            torch.sum(g_z, 1, out=grads[4 * layer + 1])
            if layer:
                g = torch.bmm(g_z, weight.transpose(1, 2))
        return loss, grad

    def state_dict(self, index: int, flat: torch.Tensor, running: tuple) -> dict:
        """A :class:`PaperNet` state dict for network ``index``."""
        state = {}
        for (name, shape), value in zip(self.shapes, self.views(flat)):
            value = value[index].detach().clone()
            state[name] = value.T.contiguous() if value.ndim == 2 else value
        for layer in range(self.depth + 1):
            prefix = f"body.{4 * layer + 3}"
            state[f"{prefix}.running_mean"] = running[0][layer, index].clone()
            state[f"{prefix}.running_var"] = running[1][layer, index].clone()
            state[f"{prefix}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
        return state


def fold_running_stats(running: tuple, means: torch.Tensor, variances: torch.Tensor,
                       rows: Sequence[int]) -> None:
    """Apply BatchNorm's running-statistics update for each recorded minibatch, in order.

    ``means`` and ``variances`` are (steps, layers, S, 1, width): each minibatch's batch mean
    and biased variance; ``rows`` the minibatch sizes. The update is torch's
    ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance), element by
    element in the same order as if it ran after every step.
    """
    for step, size in enumerate(rows):
        factor = size / max(size - 1, 1)
        running[0].mul_(1 - BN_MOMENTUM).add_(means[step, :, :, 0] * BN_MOMENTUM)
        running[1].mul_(1 - BN_MOMENTUM).add_(variances[step, :, :, 0] * factor * BN_MOMENTUM)


def adam_step(params: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor,
              exp_avg_sq: torch.Tensor, *, lr: torch.Tensor | float, step: int) -> None:
    """One Adam update in place, as ``torch.optim.Adam`` (default betas and eps) computes it.

    ``lr`` may be a tensor broadcasting against ``params`` (one learning rate per network).
    """
    exp_avg.lerp_(grad, 1 - ADAM_BETAS[0])
    exp_avg_sq.mul_(ADAM_BETAS[1]).addcmul_(grad, grad, value=1 - ADAM_BETAS[1])
    bias1 = 1 - ADAM_BETAS[0] ** step
    bias2_sqrt = math.sqrt(1 - ADAM_BETAS[1] ** step)
    denom = (exp_avg_sq.sqrt() / bias2_sqrt).add_(ADAM_EPS)
    params.sub_(exp_avg.div(denom).mul_(lr / bias1))


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def cache_key(train: Split, valid: Split, *, seed: int, width: int, depth: int, dropout: float,
              max_epochs: int, early_stopping: bool, restore: str = "best") -> str:
    """Hash of everything that determines a trained network."""
    spec = {
        "data": _fingerprint(train.X, train.y, valid.X, valid.y),
        "seed": seed, "width": width, "depth": depth, "dropout": dropout,
        "max_epochs": max_epochs, "early_stopping": early_stopping,
        "batch_size": BATCH_SIZE, "version": TRAINING_VERSION, "torch": torch.__version__,
    }
    if restore != "best":   # the default leaves the keys of networks trained before it alone
        spec["restore"] = restore
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:24]


def _load_cached(path: Path) -> tuple[dict, TrainingLog] | None:
    """The state dict and log cached at ``path``, or None (then the network is trained): a
    truncated or foreign file is retrained, not trusted, and a warning names it."""
    if not path.is_file():
        return None
    try:
        state, record = read_network(path)
        log = TrainingLog(**record)
    except (ValueError, TypeError) as exc:
        warnings.warn(f"network cache file {path} is unreadable or not a posthoc network "
                      f"({error_summary(exc)}); training the network again.",
                      RuntimeWarning, stacklevel=3)
        return None
    log.from_cache = True
    return state, log


def _splits(dataset: Dataset | tuple[Split, Split]) -> tuple[Split, Split]:
    if isinstance(dataset, Dataset):
        return dataset.train, dataset.valid
    if (isinstance(dataset, tuple) and len(dataset) == 2
            and all(isinstance(s, Split) for s in dataset)):
        return dataset
    raise ValueError("dataset must be a posthoc.Dataset or a (train, valid) pair of "
                     f"posthoc.Split; got {type(dataset).__name__}.")


def train_networks(dataset: Dataset | tuple[Split, Split], *, seeds: Sequence[int],
                   width: int = 32, depth: int = 10, dropout: float = 0.2,
                   max_epochs: int = MAX_EPOCHS, early_stopping: bool = True,
                   restore: str = "best", cache: bool | str | Path = True,
                   progress: bool = True, workers: int | None = None,
                   return_logs: bool = False):
    """Train one :class:`PaperNet` per seed, all seeds in one batched computation.

    Parameters
    ----------
    dataset : Dataset or (train, valid) pair of Split
        Training data; the validation split drives the learning-rate schedule and early
        stopping, as in the authors' code.
    seeds : sequence of int
        One network per seed. A seed's network is the same whichever seeds train beside it.
    width, depth, dropout
        Architecture, as in :class:`PaperNet`.
    max_epochs : int, default 1001
        Epoch budget.
    early_stopping : bool, default True
        Every 10 epochs compare the validation loss with the best so far; after more than 10
        checks without improvement stop and restore the best weights.
    restore : {"best", "final"}, default "best"
        Which weights an early-stopped network keeps: those of its best validation check,
        or ``"final"``, the weights it stopped with. The authors' code meant to restore
        the best but kept an uncopied ``state_dict()``, so it kept the final weights. One
        training run gives both, and both are cached.
    cache : bool or path, default True
        Reuse networks saved on disk (``$POSTHOC_CACHE`` or ``~/.cache/posthoc/networks``, or
        the folder given), keyed by everything that determines them; save new ones there.
    progress : bool, default True
        Show a progress bar over epochs.
    workers : int, optional
        Processes to train in; the seeds are shared out among them and each trains its
        share in one batched computation on one thread. Defaults to the number of cores (at
        most the number of seeds to train). Results do not depend on it.
    return_logs : bool, default False
        Also return one :class:`TrainingLog` per seed.

    Returns
    -------
    list of PaperNet (in eval mode), and the logs if ``return_logs``.

    Examples
    --------
    >>> import numpy as np
    >>> from posthoc import Split
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> part = Split(X, y, (X[:, 1] > 0).astype(int))
    >>> nets = train_networks((part, part), seeds=[0, 1], width=8, depth=1,
    ...                       max_epochs=3, cache=False, progress=False)
    >>> len(nets), nets[0](torch.as_tensor(part.X)).shape
    (2, torch.Size([200]))
    """
    train, valid = _splits(dataset)
    seeds = check_seeds("seeds", seeds)
    check_positive_int("width", width)
    check_positive_int("depth", depth, minimum=0)
    check_probability("dropout", dropout)
    check_positive_int("max_epochs", max_epochs)
    if restore not in ("best", "final"):
        raise ValueError(f"restore must be 'best' or 'final'; got {restore!r}.")
    if len(train) < 2:
        raise ValueError(f"dataset's training split must hold at least 2 rows; got {len(train)}.")
    folder = None if cache is False else (cache_dir() if cache is True else Path(cache))
    spec = dict(width=width, depth=depth, dropout=float(dropout), max_epochs=max_epochs,
                early_stopping=bool(early_stopping), restore=restore)

    results: dict[int, tuple[dict, TrainingLog]] = {}
    keys = {seed: cache_key(train, valid, seed=seed, **spec) for seed in seeds}
    # One training run gives both the best and the final weights (the same trajectory), so
    # both are cached: asking for the other one later costs no training.
    other = "final" if restore == "best" else "best"
    other_keys = {seed: cache_key(train, valid, seed=seed, **{**spec, "restore": other})
                  for seed in seeds}
    if folder is not None:
        for seed in seeds:
            stored = _load_cached(network_path(folder, keys[seed]))
            if stored is not None:
                results[seed] = stored
    missing = [seed for seed in seeds if seed not in results]
    if missing:
        if workers is None:
            workers = min(os.cpu_count() or 1, len(missing))
        workers = min(check_positive_int("workers", workers), len(missing))
        trained = _train_in_workers(train, valid, missing, workers=workers,
                                    progress=progress, spec=spec)
        for seed, variants in zip(missing, trained):
            results[seed] = variants[restore]
            if folder is not None:
                for variant, key in ((restore, keys[seed]), (other, other_keys[seed])):
                    state, log = variants[variant]
                    save_network(state, log.__dict__, network_path(folder, key))

    networks = []
    for seed in seeds:
        net = PaperNet(train.X.shape[1], width=width, depth=depth, dropout=dropout)
        net.load_state_dict(results[seed][0])
        networks.append(net.eval())
    if return_logs:
        return networks, [results[seed][1] for seed in seeds]
    return networks


def train_network(dataset: Dataset | tuple[Split, Split], *, seed: int = 0, width: int = 32,
                  depth: int = 10, dropout: float = 0.2, **options) -> PaperNet:
    """Train one :class:`PaperNet` as the authors did; see :func:`train_networks`."""
    return train_networks(dataset, seeds=[seed], width=width, depth=depth, dropout=dropout,
                          **options)[0]


_PROGRESS = None  # a worker process's queue for epoch counts


def _init_worker(queue) -> None:
    global _PROGRESS
    _PROGRESS = queue


def _worker(train: Split, valid: Split, seeds: list[int], spec: dict):
    report = _PROGRESS.put if _PROGRESS is not None else None
    return _train_stacked(train, valid, seeds, report=report, **spec)


def _train_in_workers(train: Split, valid: Split, seeds: list[int], *, workers: int,
                      progress: bool, spec: dict) -> list[dict[str, tuple[dict, TrainingLog]]]:
    """Share ``seeds`` out among ``workers`` processes (or train here if one); per seed, the
    ``"best"`` and the ``"final"`` weights with their logs."""
    groups = [seeds[i::workers] for i in range(workers)]
    bar = tqdm(total=spec["max_epochs"] * workers, disable=not progress, leave=False,
               desc=f"training {len(seeds)} network(s) in {workers} process(es)",
               unit="epoch")
    results: dict[int, dict[str, tuple[dict, TrainingLog]]] = {}
    try:
        if workers == 1:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # the same single-threaded kernels as in the workers
            try:
                trained = _train_stacked(train, valid, seeds, report=lambda n: bar.update(n),
                                         **spec)
            finally:
                torch.set_num_threads(threads)
            results.update(zip(seeds, trained))
        else:
            epochs_done = multiprocessing.get_context("spawn").Queue()
            try:
                with process_pool(workers, initializer=_init_worker,
                                  initargs=(epochs_done,)) as pool:
                    futures = {pool.submit(_worker, train, valid, group, spec): group
                               for group in groups}
                    pending = set(futures)
                    while pending:
                        _, pending = wait(pending, timeout=0.5)
                        try:
                            while True:
                                bar.update(epochs_done.get_nowait())
                        except queue_module.Empty:
                            pass
                    for future, group in futures.items():
                        results.update(zip(group, future.result()))
            except BrokenProcessPool:
                warnings.warn(
                    "train_networks could not start its worker processes (a script that "
                    "calls it needs an `if __name__ == '__main__':` guard); training "
                    "in this process instead, with the same results. Pass workers=1 to "
                    "skip the attempt.", RuntimeWarning, stacklevel=3)
                bar.close()
                return _train_in_workers(train, valid, seeds, workers=1, progress=progress,
                                         spec=spec)
    finally:
        bar.close()
    return [results[seed] for seed in seeds]


def _train_stacked(train: Split, valid: Split, seeds: list[int], *, width: int, depth: int,
                   dropout: float, max_epochs: int, early_stopping: bool,
                   restore: str = "best", report=None
                   ) -> list[dict[str, tuple[dict, TrainingLog]]]:
    """The batched training loop. Stopped networks leave the batch. Per seed, the ``"best"``
    and the ``"final"`` weights (``restore`` is part of the cache key only: one trajectory
    gives both).

    ``report(n)`` is called with the number of epochs just finished (once per epoch, and
    with the epochs skipped when every network has stopped early).
    """
    with torch.inference_mode():  # no autograd bookkeeping: the backward pass is by hand
        trained = _train_stacked_loop(train, valid, seeds, width=width, depth=depth,
                                      dropout=dropout, max_epochs=max_epochs,
                                      early_stopping=early_stopping, report=report)
    machine = numerics.record()
    for variants in trained:
        for _, log in variants.values():
            for name, value in machine.items():
                setattr(log, name, value)
    return trained


@dataclass
class _Stack:
    """The optimiser state of the networks still training, stacked along the first axis;
    ``active`` maps each row to its position in ``seeds``."""

    active: list[int]
    flat: torch.Tensor
    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    running: tuple
    step: int = 0

    def keep(self, rows: list[int]) -> None:
        """Keep only the given rows (networks that stopped early leave the stack)."""
        index = torch.tensor(rows, dtype=torch.long)  # may be empty: all stopped
        self.flat = self.flat[index].clone()
        self.exp_avg = self.exp_avg[index].clone()
        self.exp_avg_sq = self.exp_avg_sq[index].clone()
        self.running = (self.running[0][:, index].contiguous(),
                        self.running[1][:, index].contiguous())
        self.active = [self.active[row] for row in rows]


@dataclass
class _Schedule:
    """Per-network learning rate (ReduceLROnPlateau) and early-stopping state, indexed by
    position in ``seeds``."""

    lr: torch.Tensor
    plateau_best: torch.Tensor
    plateau_bad: torch.Tensor
    best_loss: list
    best_state: list
    bad_checks: list
    logs: list

    @classmethod
    def start(cls, seeds: list[int]) -> "_Schedule":
        count = len(seeds)
        return cls(lr=torch.full((count, 1), ADAM_LR),
                   plateau_best=torch.full((count,), math.inf),
                   plateau_bad=torch.zeros(count, dtype=torch.long),
                   best_loss=[math.inf] * count, best_state=[None] * count,
                   bad_checks=[0] * count,
                   logs=[TrainingLog(seed=s, epochs=0, best_epoch=0, best_valid_loss=math.inf,
                                     stopped_early=False, final_lr=ADAM_LR) for s in seeds])

    def plateau(self, i: int, loss_value: float) -> None:
        """ReduceLROnPlateau (mode min, relative threshold) for network ``i``."""
        if loss_value < self.plateau_best[i] * (1 - PLATEAU_THRESHOLD):
            self.plateau_best[i] = loss_value
            self.plateau_bad[i] = 0
        else:
            self.plateau_bad[i] += 1
        if self.plateau_bad[i] > PLATEAU_PATIENCE:
            new_lr = float(self.lr[i]) * PLATEAU_FACTOR
            if float(self.lr[i]) - new_lr > PLATEAU_EPS:
                self.lr[i] = new_lr
            self.plateau_bad[i] = 0

    def check(self, i: int, row: int, epoch: int, loss_value: float, stack: _Stack) -> bool:
        """An early-stopping check of network ``i`` (row ``row`` of the stack); True when it
        has run out of patience."""
        if loss_value > self.best_loss[i]:
            self.bad_checks[i] += 1
        else:
            self.best_loss[i] = loss_value
            self.best_state[i] = (stack.flat[row].clone(), stack.running[0][:, row].clone(),
                                  stack.running[1][:, row].clone())
            self.logs[i].best_epoch = epoch
            self.bad_checks[i] = 0
        if self.bad_checks[i] > PATIENCE_CHECKS:
            self.logs[i].stopped_early = True
            return True
        return False

    def finish(self, i: int, row: int, epoch: int, final_loss: torch.Tensor, stack: _Stack,
               nets: "_StackedNets", *, early_stopping: bool, last_epoch: bool
               ) -> dict[str, tuple[dict, TrainingLog]]:
        """Network ``i``'s state dict and log twice: ``"best"``, its best checked weights (at
        the end of the budget the final weights count as one more check), and ``"final"``,
        the weights it stopped with."""
        log = self.logs[i]
        log.final_lr = float(self.lr[i])
        current = (stack.flat[row], stack.running[0][:, row], stack.running[1][:, row])
        final_log = replace(log, best_epoch=epoch, best_valid_loss=log.valid_losses[-1])
        final_is_best = last_epoch and final_loss <= self.best_loss[i]
        if early_stopping and self.best_state[i] is not None and not final_is_best:
            best, best_log = self.best_state[i], replace(log, best_valid_loss=self.best_loss[i])
        else:
            best, best_log = current, final_log
        return {name: (nets.state_dict(0, weights[None], (mean[:, None], var[:, None])), entry)
                for name, ((weights, mean, var), entry) in
                (("best", (best, best_log)), ("final", (current, final_log)))}


def _dropout_masks(dropout_gens, active: list[int], dropout: float, batch_sizes: list[int],
                   n_layers: int, width: int) -> torch.Tensor | None:
    """This epoch's keep masks, (steps, S, layers, B, width), or None without dropout.

    One draw per network and epoch from the network's own stream: 16-bit uniform integers,
    kept with probability round(keep * 2**16) / 2**16 (within 1e-5 of keep), several times
    cheaper than float draws."""
    if dropout <= 0:
        return None
    shape = (len(batch_sizes), n_layers, BATCH_SIZE, width)
    cut = round((1.0 - dropout) * 65536)
    return torch.from_numpy(np.stack([
        dropout_gens[i].integers(0, 65536, shape, dtype=np.uint16) < cut for i in active],
        axis=1))


def _train_epoch(nets: "_StackedNets", stack: _Stack, X: torch.Tensor, y: torch.Tensor,
                 orders: torch.Tensor, keep_masks: torch.Tensor | None, keep: float,
                 batch_sizes: list[int], lr: torch.Tensor) -> None:
    """One epoch of minibatch Adam steps of every network of the stack, then BatchNorm's
    running statistics."""
    grad = torch.zeros_like(stack.flat)             # padding columns stay zero
    means = torch.empty(len(batch_sizes), nets.depth + 1, len(stack.active), 1, nets.width)
    variances = torch.empty_like(means)
    start = 0
    for b, size in enumerate(batch_sizes):
        rows = orders[:, start:start + size]
        start += size
        gates = None
        if keep_masks is not None:
            gates = keep_masks[b, :, :, :size, :].to(torch.float32).mul_(1.0 / keep)
        nets.train_step_grad(stack.flat, X[rows], y[rows], gates,
                             batch_stats=(means[b], variances[b]), grad=grad)
        stack.step += 1
        adam_step(stack.flat, grad, stack.exp_avg, stack.exp_avg_sq, lr=lr, step=stack.step)
    fold_running_stats(stack.running, means, variances, batch_sizes)


def _train_stacked_loop(train: Split, valid: Split, seeds: list[int], *, width: int,
                        depth: int, dropout: float, max_epochs: int, early_stopping: bool,
                        report) -> list[dict[str, tuple[dict, TrainingLog]]]:
    X_train = torch.from_numpy(train.X)
    y_train = torch.from_numpy(train.y).to(torch.float32)
    X_valid = torch.from_numpy(valid.X)
    y_valid = torch.from_numpy(valid.y).to(torch.float32)
    n = X_train.shape[0]
    batch_sizes = [min(BATCH_SIZE, n - start) for start in range(0, n, BATCH_SIZE)]
    # BatchNorm cannot normalise a single row; a last minibatch of one row is skipped.
    batch_sizes = [size for size in batch_sizes if size > 1]

    nets = _StackedNets(X_train.shape[1], width, depth, seeds)
    order_gens = [_generator(seed, 1) for seed in seeds]
    dropout_gens = [np.random.Generator(np.random.SFC64([seed, 2])) for seed in seeds]
    flat = nets.flat.detach().clone()
    stack = _Stack(active=list(range(len(seeds))), flat=flat, exp_avg=torch.zeros_like(flat),
                   exp_avg_sq=torch.zeros_like(flat),
                   running=(nets.running_mean, nets.running_var))
    schedule = _Schedule.start(seeds)
    finished: dict[int, dict[str, tuple[dict, TrainingLog]]] = {}

    for epoch in range(max_epochs):
        if not stack.active:
            if report is not None:
                report(max_epochs - epoch)
            break
        orders = torch.stack([torch.randperm(n, generator=order_gens[i]) for i in stack.active])
        keep_masks = _dropout_masks(dropout_gens, stack.active, dropout, batch_sizes,
                                    depth + 1, width)
        lr_active = schedule.lr[torch.tensor(stack.active, dtype=torch.long)]
        _train_epoch(nets, stack, X_train, y_train, orders, keep_masks, 1.0 - dropout,
                     batch_sizes, lr_active)
        with torch.no_grad():
            logits = nets.forward(X_valid, train=False, flat=stack.flat, running=stack.running)
            valid_loss = _bce_per_network(logits, y_valid)
        leaving = []
        for row, i in enumerate(stack.active):
            loss_value = float(valid_loss[row])
            schedule.logs[i].valid_losses.append(loss_value)
            schedule.logs[i].epochs = epoch + 1
            schedule.plateau(i, loss_value)
            if (early_stopping and epoch % CHECK_EVERY == 0
                    and schedule.check(i, row, epoch, loss_value, stack)):
                leaving.append(row)
        last_epoch = epoch == max_epochs - 1
        for row, i in enumerate(stack.active):
            if row in leaving or last_epoch:
                finished[i] = schedule.finish(i, row, epoch, valid_loss[row], stack, nets,
                                              early_stopping=early_stopping,
                                              last_epoch=last_epoch)
        if leaving and not last_epoch:
            stack.keep([row for row in range(len(stack.active)) if row not in leaving])
        if report is not None:
            report(1)
    return [finished[i] for i in range(len(seeds))]


__all__ = ["TrainingLog", "cache_dir", "cache_key", "train_network", "train_networks"]
