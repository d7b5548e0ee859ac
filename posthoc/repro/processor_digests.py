"""Which operations of training give other bits on another processor.

Training is not bitwise identical across processor vendors (README, *Training is not identical
across processor vendors*), and finding the operation where they part needs both processors'
numbers, which are seldom on one machine at once. So each processor's numbers are recorded
here, as digests, and compared later on any machine:

* every operation that the batched trainer (:mod:`posthoc.stacked`) and adversarial
  fine-tuning use, at the shapes they use it (compas-race's 401 inputs, width 32, minibatches
  of 64, four stacked networks), on fixed inputs drawn from one seed; and
* the weights of compas-race's network of seed 0 after 1, 2, 3, 5, 10, 20 and 40 epochs (the
  first epoch after which two processors' weights differ is where training parts). After 40
  epochs it is the quick profile's committed network of seed 0, so the table also holds the
  processor that trained the committed networks (:func:`committed_digests`).

::

    python -m posthoc.repro.processor_digests            # this processor against the recorded
    python -m posthoc.repro.processor_digests --record   # add this processor's digests

Digests are the first 16 hex digits of the SHA-256 of each result's bytes, kept per processor
model name in :data:`RECORDED` with the torch version and numerical setting they ran under.
The same record holds, under ``networks``, the full digests of the committed networks trained
again on that processor (``tests/test_network_store.py``, which compares with them on every
processor but the one that trained the committed networks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .. import numerics
from ..data import load_dataset
from ..network_files import read_network
from ..networks import PaperNet
from ..stacked import adam_step, bce_per_network
from ..threads import single_threaded
from ..training import train_network
from .network_store import indexed, store_folder

#: Each processor's digests, committed.
RECORDED = Path(__file__).resolve().parents[2] / "results" / "processor_digests.json"
#: Epochs after which the training digests are taken.
EPOCHS = (1, 2, 3, 5, 10, 20, 40)
STACK, ROWS, INPUTS, WIDTH = 4, 64, 401, 32


def digest(value) -> str:
    """The first 16 hex digits of the SHA-256 of a tensor's, an array's or a list of
    tensors' bytes."""
    parts = value if isinstance(value, (list, tuple)) else [value]
    h = hashlib.sha256()
    for part in parts:
        array = part.detach().contiguous().numpy() if torch.is_tensor(part) else part
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def _inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    return {"x": normal(STACK, ROWS, INPUTS), "w_in": normal(STACK, INPUTS, WIDTH, scale=0.05),
            "h": normal(STACK, ROWS, WIDTH), "w": normal(STACK, WIDTH, WIDTH, scale=0.18),
            "bias": normal(STACK, 1, WIDTH, scale=0.1), "g": normal(STACK, ROWS, WIDTH),
            "logits": normal(STACK, 1233), "y": (normal(1233) > 0).float(),
            "flat": normal(STACK, 4096, scale=0.1), "grad": normal(STACK, 4096, scale=0.01),
            "x2": normal(ROWS, INPUTS), "w2": normal(WIDTH, INPUTS, scale=0.05),
            "b2": normal(WIDTH, scale=0.1)}


def _adam(t: dict) -> torch.Tensor:
    flat = t["flat"].clone()
    exp_avg, exp_avg_sq = torch.zeros_like(flat), torch.zeros_like(flat)
    for step in range(1, 4):
        adam_step(flat, t["grad"] * step, exp_avg, exp_avg_sq, lr=1e-3, step=step)
    return flat


def _autograd(t: dict) -> list[torch.Tensor]:
    """A linear layer, BatchNorm in training mode, ReLU and binary cross-entropy on
    probabilities, differentiated by autograd (adversarial fine-tuning's path)."""
    w = t["w2"].clone().requires_grad_(True)
    z = F.linear(t["x2"], w, t["b2"])
    z = F.batch_norm(z, torch.zeros(WIDTH), torch.ones(WIDTH), training=True)
    p = torch.sigmoid(F.relu(z).sum(1) / 8 - 1)
    F.binary_cross_entropy(p, t["y"][:ROWS]).backward()
    return [p.detach(), w.grad]


def _dropout(t: dict) -> torch.Tensor:
    torch.manual_seed(0)
    return F.dropout(t["h"], 0.2, training=True)


#: Operation name -> the operation on :func:`_inputs`.
OPERATIONS = {
    "baddbmm, first layer": lambda t: torch.baddbmm(t["bias"], t["x"], t["w_in"]),
    "baddbmm, hidden layer": lambda t: torch.baddbmm(t["bias"], t["h"], t["w"]),
    "bmm, weight gradient": lambda t: torch.bmm(t["x"].transpose(1, 2), t["g"]),
    "bmm, input gradient": lambda t: torch.bmm(t["g"], t["w"].transpose(1, 2)),
    "matmul, shared input": lambda t: torch.matmul(t["x"][0], t["w_in"]),
    "linear (nn)": lambda t: F.linear(t["x2"], t["w2"], t["b2"]),
    "mean over the minibatch": lambda t: torch.mean(t["h"], 1, keepdim=True),
    "sum over the minibatch": lambda t: torch.sum(t["h"] * t["g"], 1),
    "square, sqrt, reciprocal": lambda t: t["h"].square().add(1e-5).sqrt_().reciprocal_(),
    "sigmoid": lambda t: torch.sigmoid(t["logits"]),
    "exp": lambda t: torch.exp(t["logits"]),
    "log": lambda t: torch.log(torch.sigmoid(t["logits"])),
    "log1p": lambda t: torch.log1p(torch.exp(-t["logits"].abs())),
    "binary cross-entropy with logits": lambda t: bce_per_network(t["logits"], t["y"]),
    "batch_norm, training": lambda t: F.batch_norm(
        t["h"][0], torch.zeros(WIDTH), torch.ones(WIDTH), training=True),
    "Adam, three steps": _adam,
    "autograd: linear, batch_norm, BCE": _autograd,
    "dropout": _dropout,
    "randperm": lambda t: torch.randperm(4000, generator=torch.Generator().manual_seed(1)),
    "numpy SFC64 integers": lambda t: np.random.Generator(np.random.SFC64([0, 2])).integers(
        0, 65536, 10000, dtype=np.uint16),
}


def operation_digests() -> dict[str, str]:
    """Each of :data:`OPERATIONS`' result digests on this processor, on one thread."""
    inputs = _inputs()
    with single_threaded():
        return {name: digest(op(inputs)) for name, op in OPERATIONS.items()}


def training_digests(epochs=EPOCHS, data_dir: str | None = None) -> dict[str, str]:
    """The weights' digest of compas-race's network of seed 0 (the paper's architecture, no
    early stopping) after each number of ``epochs``, trained here on one thread."""
    dataset = load_dataset("compas-race", data_dir=data_dir)
    out = {}
    for count in epochs:
        net = train_network(dataset, seed=0, max_epochs=count, early_stopping=False,
                            restore="final", cache=False, progress=False, workers=1)
        out[str(count)] = digest(list(net.state_dict().values()))
    return out


def committed_digests() -> dict[str, dict]:
    """The training digest after 40 epochs of the processor that trained the quick profile's
    committed networks, read from the committed file: processor -> its partial record."""
    folder = store_folder("quick")
    rows = [row for row in indexed(folder).values()
            if (row["config"], row["arch"], row["seed"], row["max_epochs"], row["restore"])
            == ("compas-race", "default", 0, 40, "final")]
    if not rows:
        return {}
    state, _ = read_network(folder / f"{rows[0]['key']}.safetensors")
    net = PaperNet(INPUTS)
    net.load_state_dict(state)
    name = f"{rows[0]['processor']} (the committed network)"
    return {name: {"epochs": {"40": digest(list(net.state_dict().values()))}}}


def measure(data_dir: str | None = None) -> dict:
    """This processor's record: its setting, torch, and both sets of digests."""
    return {"torch": torch.__version__, "numerics": numerics.in_force(),
            "operations": operation_digests(), "epochs": training_digests(data_dir=data_dir)}


def recorded(path: str | Path = RECORDED) -> dict[str, dict]:
    """Processor model name -> its record (:func:`measure`, and ``networks``), as committed."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else {}


def record(processor: str, entries: dict, path: str | Path = RECORDED) -> None:
    """Set ``entries`` (top-level keys of a record) in ``processor``'s record, keeping its
    other keys, and write the file."""
    records = recorded(path)
    records.setdefault(processor, {}).update(entries)
    Path(path).write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")


def compare(here: dict, records: dict[str, dict]) -> pd.DataFrame:
    """One row per operation and per training length, one column per recorded processor:
    ``same``, ``differs`` or ``not recorded`` against ``here``."""
    rows = [(kind, name, digest_here) for kind in ("operations", "epochs")
            for name, digest_here in here[kind].items()]
    table = pd.DataFrame({"what": [k for k, _, _ in rows], "name": [n for _, n, _ in rows]})
    for processor, record in records.items():
        table[processor] = ["same" if record.get(kind, {}).get(name) == value
                            else ("not recorded" if name not in record.get(kind, {})
                                  else "differs")
                            for kind, name, value in rows]
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.processor_digests",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true",
                        help=f"add (or replace) this processor's digests in {RECORDED.name}")
    parser.add_argument("--data-dir", default=None, help="raw data folder ($POSTHOC_DATA)")
    args = parser.parse_args(argv)
    here = measure(data_dir=args.data_dir)
    name = numerics.processor()
    print(f"this processor: {name} (torch {here['torch']}, {here['numerics']})")
    records = recorded()
    others = {k: v for k, v in records.items() if k != name}
    if name in records:
        others = {f"{name} (recorded)": records[name], **others}
    others.update(committed_digests())
    print(compare(here, others).to_string(index=False) if others
          else "no other processor recorded")
    if args.record:
        record(name, here)
        print(f"recorded in {RECORDED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["EPOCHS", "OPERATIONS", "RECORDED", "committed_digests", "compare", "digest", "measure",
           "operation_digests", "record", "recorded", "training_digests"]
