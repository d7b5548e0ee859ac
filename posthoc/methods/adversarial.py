"""Adversarial fine-tuning (the paper's Algorithm 3), as the authors' code ran it.

A critic learns to predict the bias of a minibatch from the network's penultimate
activations (the inputs of its last ``nn.Linear``, taken with a forward hook, so any
feed-forward model works); the network is then fine-tuned to minimise
``lam * |critic| + (1 - lam) * BCE``. Each epoch runs the critic steps then the actor steps,
on minibatches drawn with replacement from the validation split. As in the authors' code,
the critic's target is the measure computed on the network's probabilities (a soft bias),
the actor's penultimate activations come from a forward pass of their own, and the actor
trains in train mode (dropout on, BatchNorm on batch statistics).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._progress import steps
from ..data import Split
from ..metrics import Measure, measure_bias
from ..thresholds import best_threshold
from ._common import scores_of
from ._spec import GRID, Fit, MethodSpec, Option, integer


class Critic(nn.Module):
    """The authors' critic: the minibatch's activations flattened into one vector, a linear
    layer to ``width``, ``depth`` hidden layers with ReLU and dropout, one output."""

    def __init__(self, n_inputs: int, *, width: int = 32, depth: int = 3, dropout: float = 0.2):
        super().__init__()
        self.inp = nn.Linear(n_inputs, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(width, 1)

    def forward(self, activations: torch.Tensor) -> torch.Tensor:
        h = self.inp(activations.reshape(1, -1))
        for layer in self.hidden:
            h = self.dropout(F.relu(layer(h)))
        return self.out(h).reshape(())


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's last ``nn.Linear`` (in registration order): its output layer."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("method 'adversarial' needs a model whose output layer is an "
                         "nn.Linear (its inputs are the penultimate activations the critic "
                         f"reads); {type(model).__name__} has no nn.Linear.")
    return linears[-1]


def _soft_bias(scores: torch.Tensor, y: torch.Tensor, a: torch.Tensor, measure: Measure) -> float:
    """The measure on probabilities instead of 0/1 predictions (the critic's target)."""
    return float(measure_bias(scores, y, a, measure))


def adversarial_fine_tuning(model: nn.Module, split: Split, *, measure: Measure, lam: float,
                            seed: int, epochs: int, critic_steps: int, actor_steps: int,
                            batch_size: int, objective=None) -> nn.Module:
    """Fine-tune ``model`` (already a private copy) in place and return it in eval mode.

    The actor minimises λ·|critic| + (1 − λ)·BCE (the paper's weighted objective), or, under
    the constrained objective, the final version's max(1, λ·(|critic| − ε + margin) + 1)·BCE:
    cross-entropy alone while the predicted bias is inside the bound, scaled up outside it.
    """
    X = torch.from_numpy(split.X)
    y = torch.from_numpy(split.y).float()
    a = torch.from_numpy(split.a)
    head = last_linear(model)
    captured: dict[str, torch.Tensor] = {}
    hook = head.register_forward_pre_hook(
        lambda module, inputs: captured.__setitem__("penultimate", inputs[0]))
    try:
        with torch.random.fork_rng():  # every draw below comes from `seed`
            torch.manual_seed(seed)
            critic = Critic(batch_size * head.in_features)
            # torch's multi-tensor Adam: the same updates, bit for bit, as its default
            # one-tensor-at-a-time loop on the CPU, with fewer calls per step (about 10%
            # of a cell's time; its fused Adam changes the last bits, so it is not used).
            critic_optimiser = torch.optim.Adam(critic.parameters(), foreach=True)
            actor_optimiser = torch.optim.Adam(model.parameters(), foreach=True)
            for _ in steps(range(epochs), desc="adversarial fine-tuning: epochs"):
                model.eval()
                critic.train()
                for _ in range(critic_steps):
                    rows = torch.randint(0, X.shape[0], (batch_size,))
                    with torch.no_grad():
                        scores = model(X[rows]).reshape(-1)
                        activations = captured["penultimate"]
                    target = _soft_bias(scores, y[rows], a[rows], measure)
                    critic_optimiser.zero_grad()
                    loss = F.mse_loss(critic(activations), torch.tensor(target))
                    loss.backward()
                    critic_optimiser.step()
                model.train()
                critic.eval()
                for p in critic.parameters():
                    p.requires_grad_(False)
                for _ in range(actor_steps):
                    rows = torch.randint(0, X.shape[0], (batch_size,))
                    actor_optimiser.zero_grad()
                    model(X[rows])                     # the penultimate activations' own pass
                    predicted_bias = critic(captured["penultimate"])
                    out = model(X[rows]).reshape(-1)
                    cross_entropy = F.binary_cross_entropy(out, y[rows])
                    if objective is not None and objective.constrained:
                        excess = predicted_bias.abs() - objective.epsilon + objective.margin
                        loss = torch.clamp(lam * excess + 1, min=1.0) * cross_entropy
                    else:
                        loss = lam * predicted_bias.abs() + (1 - lam) * cross_entropy
                    loss.backward()
                    actor_optimiser.step()
                for p in critic.parameters():
                    p.requires_grad_(True)
    finally:
        hook.remove()
    return model.eval()


def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int,
        objective, grid: int | None, epochs: int, critic_steps: int, actor_steps: int,
        batch_size: int) -> Fit:
    """Algorithm 3 on ``model`` (a private copy), then its best validation threshold."""
    model = adversarial_fine_tuning(model, split, measure=measure, lam=lam, seed=seed,
                                    epochs=epochs, critic_steps=critic_steps,
                                    actor_steps=actor_steps, batch_size=batch_size,
                                    objective=objective)
    threshold = best_threshold(scores_of(model, split.X), split.y, split.a, measure, lam=lam,
                               grid=grid, objective=objective)
    return Fit(model=model, threshold=float(threshold))


SPEC = MethodSpec(
    name="adversarial", label="Adversarial", family="fine-tuning", fit=fit, colour="#2ca02c",
    uses_objective=True, margin=0.02,
    options=(Option("grid", 1001, GRID, "thresholds tried (the authors' 1001)"),
             Option("epochs", 16, integer(1), "rounds of critic then actor steps",
                    budget=True),
             Option("critic_steps", 201, integer(1), "critic minibatches per epoch"),
             Option("actor_steps", 101, integer(1), "network minibatches per epoch"),
             Option("batch_size", 64, integer(1), "rows per minibatch")),
    description="adversarial fine-tuning (Algorithm 3): a critic predicts the bias, the "
                "network learns to fool it")

__all__ = ["SPEC", "fit", "Critic", "adversarial_fine_tuning", "last_linear"]
