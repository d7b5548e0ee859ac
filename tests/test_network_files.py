"""Network files: what save_network writes reads back exactly, and nothing else is parsed."""

from __future__ import annotations

import pickle

import pytest
import torch
from safetensors.torch import save_file

from posthoc.network_files import (MAX_NETWORK_BYTES, NETWORK_FORMAT, network_path,
                                   read_network, save_network)
from posthoc.networks import PaperNet

KEY = "0123456789abcdef01234567"


class RunsCode:
    """Unpickling this creates a marker file: the sign that a reader ran the file's code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_network_reads_back_bit_for_bit(tmp_path):
    state = PaperNet(5, width=4, depth=2).state_dict()
    log = {"seed": 3, "epochs": 7, "valid_losses": [0.5, 0.25]}
    path = save_network(state, log, network_path(tmp_path, KEY))
    assert path.name == f"{KEY}.safetensors" and not list(tmp_path.glob("*.tmp"))
    again, record = read_network(path)
    assert record == log and again.keys() == state.keys()
    assert all(torch.equal(state[name], again[name]) for name in state)


def test_a_pickle_under_a_network_name_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    path = network_path(tmp_path, KEY)
    path.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(ValueError, match="not a safetensors file"):
        read_network(path)
    torch.save({"state_dict": RunsCode(marker)}, path)
    with pytest.raises(ValueError, match="not a safetensors file"):
        read_network(path)
    assert not marker.exists()


@pytest.mark.parametrize("name, message", [
    ("weights.safetensors", "not a cache key"),
    (f"{KEY}.pt", "not a cache key"),
    (f"{KEY.upper()}.safetensors", "not a cache key"),
])
def test_a_file_not_named_like_a_network_is_not_read(tmp_path, name, message):
    path = tmp_path / name
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": NETWORK_FORMAT, "log": "{}"})
    with pytest.raises(ValueError, match=message):
        read_network(path)


def test_foreign_safetensors_and_oversized_files_are_refused(tmp_path):
    path = network_path(tmp_path, KEY)
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="header names format None"):
        read_network(path)
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": NETWORK_FORMAT, "log": "["})
    with pytest.raises(ValueError, match="training log is not JSON"):
        read_network(path)
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": NETWORK_FORMAT, "log": "[]"})
    with pytest.raises(ValueError, match="not a JSON object"):
        read_network(path)
    with open(path, "wb") as handle:
        handle.truncate(MAX_NETWORK_BYTES + 1)
    with pytest.raises(ValueError, match=f"{MAX_NETWORK_BYTES + 1} bytes, more than"):
        read_network(path)
