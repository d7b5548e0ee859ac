"""The paper's network for many seeds at once: the weights of every seed stacked in one
flat tensor, so that each layer is one batched matrix product; the forward pass, hand-written
gradients, Adam and BatchNorm's running statistics on that stack. Each seed keeps its own
random streams, so a seed's network does not depend on which seeds train beside it."""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
ADAM_LR = 1e-3


def random_stream(seed: int, stream: int) -> torch.Generator:
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


def bce_per_network(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
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


class StackedNets:
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
        gen = random_stream(seed, 0)

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


__all__ = ["ADAM_BETAS", "ADAM_EPS", "ADAM_LR", "BN_EPS", "BN_MOMENTUM", "StackedNets",
           "adam_step", "bce_per_network", "fold_running_stats", "random_stream"]
