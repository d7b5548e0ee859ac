"""The paper's biased network: fully connected blocks with ReLU, dropout and BatchNorm."""

from __future__ import annotations

import torch
from torch import nn

from .validation import check_positive_int, check_probability


class PaperNet(nn.Module):
    """The network of the paper, outputting the probability of the favourable label.

    ``Linear(n_features, width) -> ReLU -> Dropout -> BatchNorm1d``, then ``depth`` more blocks
    ``Linear(width, width) -> ReLU -> Dropout -> BatchNorm1d``, then ``Linear(width, 1)`` and a
    sigmoid. (The authors' code had two outputs and read the first; one output is the same
    model.)

    Parameters
    ----------
    n_features : int
        Number of input features.
    width : int, default 32
        Units per hidden layer.
    depth : int, default 10
        Number of hidden blocks after the input block (the authors' ``num_deep``).
    dropout : float in [0, 1), default 0.2
        Dropout probability.

    Attributes
    ----------
    body : nn.Sequential
        Every block before the output layer; its output is the penultimate activation.
    head : nn.Linear
        The output layer (one unit).

    Examples
    --------
    >>> net = PaperNet(5, width=8, depth=2).eval()
    >>> net(torch.zeros(3, 5)).shape
    torch.Size([3])
    """

    def __init__(self, n_features: int, *, width: int = 32, depth: int = 10,
                 dropout: float = 0.2) -> None:
        super().__init__()
        check_positive_int("n_features", n_features)
        check_positive_int("width", width)
        check_positive_int("depth", depth, minimum=0)
        check_probability("dropout", dropout)
        self.n_features = n_features
        self.width = width
        self.depth = depth
        self.dropout = dropout
        blocks: list[nn.Module] = []
        fan_in = n_features
        for _ in range(depth + 1):
            blocks += [nn.Linear(fan_in, width), nn.ReLU(), nn.Dropout(dropout),
                       nn.BatchNorm1d(width)]
            fan_in = width
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid outputs, shape ``[n]``."""
        return self.head(self.body(x)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))

    def extra_repr(self) -> str:
        return (f"n_features={self.n_features}, width={self.width}, depth={self.depth}, "
                f"dropout={self.dropout}")


__all__ = ["PaperNet"]
