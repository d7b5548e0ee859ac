"""Layer-wise optimisation (the paper's Algorithm 2): one nn.Linear at a time, zeroth order.

For each ``nn.Linear`` of the network in turn, its weight matrix is searched by a black-box
optimiser (scikit-optimize's gradient-boosted-trees surrogate with the LCB acquisition, as
the authors ran ``gbrt_minimize``): every weight is a dimension bounded in [-1, 1], and a
candidate's value is the validation objective at its best threshold. The layer and weights
with the lowest objective win; the other layers keep their trained weights.

The optimiser sits behind a small ask/tell interface (:class:`AskTell`), so it can be
replaced. Two implementations of the authors' optimiser are built in: ``"gbrt"``
(:class:`posthoc.methods.gbrt.FastGBRT`, the default: the same surrogate and acquisition,
compiled) and ``"skopt"`` (scikit-optimize's own ``Optimizer``, about 20 times slower).
Candidates that the optimiser proposes together (its initial random points) are scored in
one batched forward pass.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import torch
from torch import fx, nn
from torch.func import functional_call, vmap

from .._progress import steps
from ..data import Split
from ..metrics import Measure, measure_bias
from ..thresholds import best_threshold
from ._common import set_mode
from ._spec import (FACTORY, FLAG, GRID, NAMES, THRESHOLD, Fit, MethodSpec, Option, integer,
                    one_of)
from .gbrt import FastGBRT


class AskTell(Protocol):
    """What layer-wise optimisation needs of an optimiser."""

    def ask(self, n_points: int | None = None) -> list[list[float]]: ...

    def tell(self, points: list[list[float]], values: list[float]) -> None: ...


class SkoptGBRT:
    """scikit-optimize's ``Optimizer`` with the GBRT surrogate and LCB, as ``gbrt_minimize``
    builds it (10 random initial points, acquisition optimised by sampling ``n_points``)."""

    def __init__(self, dims: int, *, seed: int, n_initial_points: int = 10,
                 n_points: int = 100, bound: float = 1.0, dimensions: list | None = None):
        # Imported here: scikit-optimize takes 1.2 s to import and only this class uses it.
        from skopt import Optimizer

        self.n_initial_points = n_initial_points
        self._optimizer = Optimizer(
            dimensions=dimensions or [(-bound, bound)] * dims, base_estimator="GBRT",
            acq_func="LCB",
            acq_optimizer="sampling", n_initial_points=n_initial_points, random_state=seed,
            acq_optimizer_kwargs={"n_points": n_points})

    def ask(self, n_points: int | None = None) -> list[list[float]]:
        if n_points is None:
            return [self._optimizer.ask()]
        return self._optimizer.ask(n_points=n_points)

    def tell(self, points: list[list[float]], values: list[float]) -> None:
        self._optimizer.tell(points, values)


#: Built-in optimisers for ``optimiser=``: name -> class taking (dims, seed=, n_points=).
OPTIMISERS = {"gbrt": FastGBRT, "skopt": SkoptGBRT}


def make_optimiser(name: str, dims: int, seed: int, n_points: int) -> AskTell:
    """The built-in optimiser ``name`` for a ``dims``-dimensional layer."""
    if name not in OPTIMISERS:
        raise ValueError(f"optimiser={name!r} is not allowed; expected one of "
                         f"{', '.join(map(repr, OPTIMISERS))}, or pass optimiser_factory.")
    return OPTIMISERS[name](dims, seed=seed, n_points=n_points)


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The model's ``nn.Linear`` layers, in registration order."""
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("method 'layerwise' needs a model with nn.Linear layers (it optimises "
                         f"their weight matrices); {type(model).__name__} has none.")
    return layers


def downstream_of(model: nn.Module, layer: str, X: torch.Tensor
                  ) -> tuple[nn.Module, tuple[torch.Tensor, ...]] | None:
    """The part of ``model`` that depends on ``layer``'s output, as a module, and its inputs
    computed once from ``X`` by the rest of the model; None when the model cannot be traced
    (then every candidate runs the whole model).

    Every candidate weight of the layer leaves everything upstream of it unchanged, so
    layer-wise optimisation computes that part once per layer instead of once per candidate.
    The downstream part runs the same operations on the same values, so the scores are the
    same as the whole model's.
    """
    try:
        traced = fx.symbolic_trace(model)
    except Exception:        # any model torch.fx cannot trace: score with the whole model
        return None
    nodes = list(traced.graph.nodes)
    start = next((node for node in nodes if node.op == "call_module" and node.target == layer),
                 None)
    if start is None:
        return None
    downstream = {start}
    for node in nodes[nodes.index(start) + 1:]:
        if node.op != "output" and any(arg in downstream for arg in node.all_input_nodes):
            downstream.add(node)
    output = nodes[-1]
    if any(arg not in downstream and arg.op != "get_attr"
           for arg in output.all_input_nodes):
        return None          # part of the output does not depend on the layer
    frontier = [node for node in nodes if node not in downstream and node.op != "get_attr"
                and any(user in downstream for user in node.users)]
    graph = fx.Graph()
    env = {node: graph.placeholder(f"frontier_{i}") for i, node in enumerate(frontier)}
    for node in nodes:
        if node in downstream or (node.op == "get_attr"
                                  and any(user in downstream for user in node.users)):
            env[node] = graph.node_copy(node, lambda arg: env[arg])
    graph.output(fx.map_arg(output.args[0], lambda arg: env[arg]))
    values: dict[fx.Node, torch.Tensor] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            if node in frontier:
                values[node] = result
            return result

    with torch.no_grad():
        Recorder(traced).run(X)
    return fx.GraphModule(traced, graph), tuple(values[node] for node in frontier)


def _score_candidates(model: nn.Module, weight_name: str, candidates: torch.Tensor,
                      split: Split, measure: Measure, lam: float, grid: int | None,
                      objective=None, threshold: float | None = None,
                      soft_bias: bool = False, downstream=None):
    """Objective and threshold of each candidate weight matrix, in one batched pass: at its
    best threshold, or at the fixed ``threshold`` (then with the bias of the scores
    themselves when ``soft_bias``). ``downstream`` (:func:`downstream_of`) runs only the
    part of the model after the layer."""
    X = torch.from_numpy(split.X)
    module, inputs = (model, (X,)) if downstream is None else downstream
    params = {name: p.detach() for name, p in module.named_parameters()}
    buffers = {name: b for name, b in module.named_buffers()}

    def one(weight):
        out = functional_call(module, ({**params, weight_name: weight}, buffers), inputs)
        return out.reshape(X.shape[0])

    with torch.no_grad():
        scores = vmap(one)(candidates)
    if threshold is not None:
        y, a = torch.from_numpy(split.y), torch.from_numpy(split.a)
        predictions = (scores > threshold).to(torch.float64)
        gap = measure_bias(scores if soft_bias else predictions, y, a, measure)
        error = (predictions != y).to(torch.float64).mean(-1)
        values = lam * gap.abs() + (1 - lam) * error
        return values.numpy(), np.full(len(values), float(threshold))
    found = best_threshold(scores, split.y, split.a, measure, lam=lam, grid=grid,
                           return_objective=True, objective=objective)
    return found.objective.numpy(), found.threshold.numpy()


def layerwise_optimisation(model: nn.Module, split: Split, *, measure: Measure, lam: float,
                           seed: int, calls: int, n_points: int, grid: int | None,
                           layers: Sequence[str] | None, optimiser: str,
                           optimiser_factory=None, objective=None, space: str = "box",
                           threshold: float | None = None, soft_bias: bool = False,
                           reuse_upstream: bool = True) -> dict:
    """Run Algorithm 2 on ``model`` (a private copy, modified in place to the best result).

    Returns the best layer, its objective and threshold, and the best objective per layer.
    ``reuse_upstream`` computes the part of the model upstream of each layer once
    (:func:`downstream_of`; the same scores, faster); False runs the whole model for every
    candidate.
    """
    chosen = linear_layers(model)
    set_mode(model, False)
    if layers is not None:
        names = [name for name, _ in chosen]
        unknown = [name for name in layers if name not in names]
        if unknown:
            raise ValueError(f"Unknown layer {unknown[0]!r}; the model's nn.Linear layers are: "
                             f"{', '.join(names)}.")
        chosen = [(name, m) for name, m in chosen if name in layers]
    if optimiser_factory is None:
        if optimiser not in OPTIMISERS:
            make_optimiser(optimiser, 1, 0, n_points)   # raises, naming the valid ones
        factory = lambda dims, seed: make_optimiser(optimiser, dims, seed, n_points)  # noqa: E731
    else:
        factory = optimiser_factory
    best = {"objective": np.inf, "layer": None, "threshold": 0.0, "weight": None}
    per_layer = {}
    for index, (name, layer) in enumerate(steps(chosen, desc="layer-wise: layers")):
        weight_name = f"{name}.weight" if name else "weight"
        shape = tuple(layer.weight.shape)
        if space == "three-values":
            # The authors' dimension (-1.0, 1.0, w) per weight, which scikit-optimize reads as
            # a choice among the three values -1, 1 and w, not as a range.
            weights = layer.weight.detach().reshape(-1).tolist()
            search = SkoptGBRT(len(weights), seed=seed + index, n_points=n_points,
                               dimensions=[(-1.0, 1.0, w) for w in weights])
        else:
            search = factory(int(np.prod(shape)), seed + index)
        downstream = (downstream_of(model, name, torch.from_numpy(split.X)) if reuse_upstream
                      else None)
        evaluated = 0
        layer_best = (np.inf, 0.0, None)
        while evaluated < calls:
            initial = getattr(search, "n_initial_points", 1)
            batch = min(initial, calls) if evaluated == 0 and initial > 1 else 1
            points = search.ask(n_points=batch) if batch > 1 else search.ask()
            candidates = torch.tensor(np.asarray(points), dtype=torch.float32).reshape(
                (len(points),) + shape)
            values, thresholds = _score_candidates(model, weight_name, candidates, split,
                                                   measure, lam, grid, objective, threshold,
                                                   soft_bias, downstream)
            search.tell([list(map(float, p)) for p in points], [float(v) for v in values])
            evaluated += len(points)
            k = int(np.argmin(values))
            if values[k] < layer_best[0]:
                layer_best = (float(values[k]), float(thresholds[k]), candidates[k])
        per_layer[name] = layer_best[0]
        if layer_best[0] < best["objective"]:
            best = {"objective": layer_best[0], "layer": name, "threshold": layer_best[1],
                    "weight": layer_best[2]}
    with torch.no_grad():
        dict(model.named_modules())[best["layer"]].weight.copy_(best["weight"])
    return {"layer": best["layer"], "objective": best["objective"],
            "threshold": best["threshold"], "layer_objectives": per_layer}


def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int,
        objective, grid: int | None, calls: int, n_points: int,
        layers: Sequence[str] | None, optimiser: str, optimiser_factory, space: str,
        threshold: float | None, soft_bias: bool) -> Fit:
    """Algorithm 2 on ``model`` (a private copy), which ends with the best layer's weights.

    ``space="three-values"``, a fixed ``threshold`` and ``soft_bias`` run it as the authors'
    code did: each weight chosen among -1, 1 and its trained value (scikit-optimize's
    reading of their dimension), one threshold for every candidate, and the bias of the
    scores themselves.
    """
    if (threshold is not None or soft_bias or space != "box") and objective.constrained:
        raise ValueError("the authors' layer-wise search (space, threshold, soft_bias) "
                         "takes the weighted objective only.")
    found = layerwise_optimisation(model, split, measure=measure, lam=lam, seed=seed, grid=grid,
                                   calls=calls, n_points=n_points, layers=layers,
                                   optimiser=optimiser, optimiser_factory=optimiser_factory,
                                   objective=objective, space=space, threshold=threshold,
                                   soft_bias=soft_bias)
    return Fit(model=model, threshold=found["threshold"],
               details={"layer": found["layer"], "layer_objectives": found["layer_objectives"]})


SPEC = MethodSpec(
    name="layerwise", label="LayerwiseOpt", family="fine-tuning", fit=fit, colour="#17becf",
    uses_objective=True,
    options=(Option("grid", 501, GRID, "thresholds tried per candidate (the authors' 501)"),
             Option("calls", 100, integer(1), "objective evaluations per layer", budget=True),
             Option("n_points", 100, integer(1), "candidates scored by the acquisition per step"),
             Option("layers", None, NAMES, "names of the nn.Linear layers to optimise"),
             Option("optimiser", "gbrt", one_of(*OPTIMISERS),
                    "'gbrt' (compiled GBRT + LCB) or 'skopt' (scikit-optimize's own)"),
             Option("optimiser_factory", None, FACTORY,
                    "a callable (dims, seed) -> ask/tell optimiser, replacing optimiser"),
             Option("space", "box", one_of("box", "three-values"),
                    "'three-values' searches each weight among -1, 1 and its trained value, "
                    "as the authors' scikit-optimize dimensions did"),
             Option("threshold", None, THRESHOLD,
                    "one fixed threshold for every candidate instead of searching one"),
             Option("soft_bias", False, FLAG,
                    "with a fixed threshold, measure the bias of the scores themselves")),
    description="layer-wise optimisation (Algorithm 2): a black-box search over one "
                "layer's weights at a time")

__all__ = ["AskTell", "OPTIMISERS", "SPEC", "SkoptGBRT", "downstream_of", "fit",
           "layerwise_optimisation",
           "linear_layers", "make_optimiser"]
