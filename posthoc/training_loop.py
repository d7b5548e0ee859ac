"""The authors' training procedure on a stack of networks (:mod:`posthoc.stacked`): epochs of
minibatch Adam steps, ReduceLROnPlateau on the validation loss, early stopping checked every
10 epochs, networks leaving the stack as they stop; per seed, its best and its final weights
with a :class:`TrainingLog`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import numerics
from .split import Split
from .stacked import (ADAM_LR, StackedNets, adam_step, bce_per_network, fold_running_stats,
                      random_stream)

BATCH_SIZE = 64
MAX_EPOCHS = 1001
CHECK_EVERY = 10          # early-stopping check interval, in epochs
PATIENCE_CHECKS = 10      # stop after more than this many checks without improvement
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


def train_stacked(train: Split, valid: Split, seeds: list[int], *, width: int, depth: int,
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
               nets: "StackedNets", *, early_stopping: bool, last_epoch: bool
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


def _train_epoch(nets: "StackedNets", stack: _Stack, X: torch.Tensor, y: torch.Tensor,
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

    nets = StackedNets(X_train.shape[1], width, depth, seeds)
    order_gens = [random_stream(seed, 1) for seed in seeds]
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
            valid_loss = bce_per_network(logits, y_valid)
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


__all__ = ["BATCH_SIZE", "CHECK_EVERY", "MAX_EPOCHS", "PATIENCE_CHECKS", "TrainingLog",
           "train_stacked"]
