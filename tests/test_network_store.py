"""The committed networks: checksummed, read only as network files, copied into the cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from posthoc import numerics
from posthoc.diagnostics import network_health
from posthoc.network_files import NETWORK_NAME, network_path, read_network, save_network
from posthoc.networks import PaperNet
from posthoc.repro.network_store import (INDEX, SUMS, export, fill_cache, index_rows, indexed,
                                         listed, sha256, store_folder, write_sums)
from posthoc.repro import processor_digests
from posthoc.repro.profiles import ARCHITECTURES
from posthoc.training import cache_key

KEYS = ("a" * 24, "b" * 24)


def _networks(folder):
    for number, key in enumerate(KEYS):
        torch.manual_seed(number)
        save_network(PaperNet(3, width=4, depth=1).state_dict(), {"seed": number},
                     network_path(folder, key))
    return write_sums(folder)


def test_fill_copies_what_is_listed_and_leaves_what_is_there(tmp_path):
    store, cache = tmp_path / "store", tmp_path / "cache"
    _networks(store)
    assert fill_cache(store, cache) == {"copied": 2, "present": 0}
    assert fill_cache(store, cache) == {"copied": 0, "present": 2}
    for key in KEYS:
        assert sha256(network_path(cache, key)) == sha256(network_path(store, key))
    assert not list(cache.glob("*.tmp"))


def test_a_network_whose_checksum_differs_is_refused(tmp_path):
    store, cache = tmp_path / "store", tmp_path / "cache"
    _networks(store)
    path = network_path(store, KEYS[1])
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(ValueError, match=rf"committed network .*{path.name} is missing or its "
                                         "SHA-256 differs"):
        fill_cache(store, cache)


@pytest.mark.parametrize("line", ["deadbeef  x.safetensors", f"{'0' * 64}  ../evil.safetensors",
                                  f"{'0' * 64}  {'a' * 24}.pt"])
def test_a_malformed_checksum_file_is_named(tmp_path, line):
    (tmp_path / SUMS).write_text(line + "\n")
    with pytest.raises(ValueError, match=rf"{SUMS} line 1 is .* expected '<sha256>  "):
        listed(tmp_path)


def test_export_takes_only_network_files(tmp_path):
    source, folder = tmp_path / "cache", tmp_path / "store"
    _networks(source)
    (source / "notes.txt").write_text("not a network")
    assert export(source, folder) == 2
    assert set(listed(folder)) == {f"{key}.safetensors" for key in KEYS}
    network_path(source, "c" * 24).write_bytes(b"\x80\x04 a pickle")
    with pytest.raises(ValueError, match="is not a posthoc network"):
        export(source, folder)


def test_a_resumed_index_keeps_the_rows_it_has_and_reads_only_new_files(tmp_path):
    _networks(tmp_path)
    row = {"key": KEYS[0], "config": "compas-race", "arch": "default", "seed": 0,
           "valid_accuracy": 0.625, "failed": False, "numerics": "mkl-compatible/avx2"}
    pd.DataFrame([row]).to_csv(tmp_path / INDEX, index=False)
    known = indexed(tmp_path)
    assert known == {(KEYS[0], "compas-race"): row}
    # A row already indexed is taken as it is; its file is not read again.
    network_path(tmp_path, KEYS[0]).write_bytes(b"not read")
    kept = index_rows([{"key": KEYS[0], "config": "compas-race"}], tmp_path, known)
    assert kept.to_dict("records") == [row]
    assert indexed(tmp_path / "nothing") == {}


#: Every committed folder of networks: the paper profile's and the quick profile's.
FOLDERS = {"paper": store_folder("paper"), "quick": store_folder("quick")}


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_every_committed_network_is_listed_checksummed_indexed_and_readable(folder):
    sums = listed(folder)
    files = {path.name for path in folder.iterdir() if path.name not in (SUMS, INDEX)}
    assert sums and files == set(sums), "every committed file is a listed network"
    index = pd.read_csv(folder / INDEX)
    assert set(index["key"] + ".safetensors") == files
    for name, checksum in sums.items():
        assert NETWORK_NAME.fullmatch(name) and sha256(folder / name) == checksum
        state, log = read_network(folder / name)
        assert state and log["epochs"] >= 1 and log["numerics"]


@pytest.mark.parametrize("profile", FOLDERS)
def test_every_network_of_a_profile_is_committed(profile):
    """Every network of the profile's plan is committed, and nothing else, so a fresh
    clone's book and ``make test`` read them instead of training."""
    from posthoc.repro.network_plan import network_rows

    wanted = {row["key"] + ".safetensors" for row in network_rows(profile)}
    assert wanted and wanted == set(listed(FOLDERS[profile]))


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_the_index_holds_what_each_network_does(datasets, folder):
    """Three networks drawn by a fixed seed: their accuracy and training recomputed from the
    committed file, and their key recomputed from the data and the recipe."""
    index = pd.DataFrame(indexed(folder).values())
    index = index[index["config"].isin(list(datasets))]
    for _, row in index.sample(3, random_state=0).iterrows():
        data = datasets[row["config"]]
        state, log = read_network(folder / f"{row['key']}.safetensors")
        net = PaperNet(data.train.X.shape[1], **ARCHITECTURES[row["arch"]])
        net.load_state_dict(state)
        assert network_health(net.eval(), data.valid)["accuracy"] == row["valid_accuracy"]
        assert (log["epochs"], log["numerics"]) == (row["epochs"], row["numerics"])
        assert cache_key(data.train, data.valid, seed=int(row["seed"]),
                         max_epochs=int(row["max_epochs"]), early_stopping=True,
                         restore=row["restore"], **ARCHITECTURES[row["arch"]]) == row["key"]


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_every_committed_cell_names_a_committed_network_and_records_its_accuracy(folder):
    """Each cell of the store beside the networks names the network it ran on; that network
    is committed, and the cell's recorded validation accuracy and failure flag are the
    index's, to the last bit."""
    from posthoc.repro.store import read_parquet

    cells = read_parquet(folder.parent / "cells.parquet")
    index = pd.DataFrame(indexed(folder).values()).rename(columns={"key": "network"})
    joined = cells.merge(index, on=["network", "config"], how="left", suffixes=("", "_index"),
                         validate="many_to_one")
    assert len(cells) and joined["valid_accuracy_index"].notna().all(), "a network is missing"
    assert (joined["network_valid_accuracy"] == joined["valid_accuracy_index"]).all()
    assert (joined["network_failed"] == joined["failed"].astype(bool)).all()




def weights_digest(state: dict) -> str:
    """SHA-256 of a state dict: every tensor's name, dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _recorded(processor: str) -> dict[str, str]:
    """Network key -> digest of the networks the next test trains, as recorded for
    ``processor`` (``networks`` of its record in ``results/processor_digests.json``): training
    is not bitwise identical across processor vendors, even under posthoc's numerics."""
    return processor_digests.recorded().get(processor, {}).get("networks", {})


def _reference(row: pd.Series, folder: Path) -> tuple[str, str | None]:
    """What a network trained here must equal: the committed file's digest where this
    processor trained it, else this processor's recorded digest (None when there is none)."""
    here = numerics.processor()
    if row["processor"] == here:
        committed, _ = read_network(folder / f"{row['key']}.safetensors")
        return here, weights_digest(committed)
    return here, _recorded(here).get(row["key"])


@pytest.mark.parametrize("profile, config, seeds, max_epochs", [
    ("paper", "german-age", (3, 4), 1001),    # the smallest committed data, the paper's budget
    ("quick", "compas-race", (0, 1), 40)])    # the quick profile's, as make test reads them
def test_the_code_trains_the_committed_networks_bit_for_bit(isolated_cache, profile, config,
                                                            seeds, max_epochs):
    """Committed networks trained again here under the reproducible numerics: every weight
    equals the committed file's, for the best and the final weights alike, on the processor
    that trained them; on another processor, the digest recorded for it in
    ``results/processor_digests.json`` (``POSTHOC_RECORD_DIGESTS=1`` records this
    processor's)."""
    from posthoc import load_dataset, train_networks
    from posthoc.numerics import in_force

    folder = FOLDERS[profile]
    index = pd.read_csv(folder / INDEX)
    rows = index[(index["config"] == config) & index["seed"].isin(seeds)]
    assert len(rows) == 2 * len(seeds) and (rows["numerics"] == in_force()).all()
    assert (rows["max_epochs"] == max_epochs).all()
    data = load_dataset(config)
    for restore in ("best", "final"):
        # One training: it writes both weights into the (empty, isolated) cache, from which
        # the second pass reads the final ones.
        trained = train_networks(data, seeds=list(seeds), max_epochs=max_epochs,
                                 restore=restore, progress=False, workers=1,
                                 **ARCHITECTURES["default"])
        for seed, net in zip(seeds, trained):
            row = rows[(rows["seed"] == seed) & (rows["restore"] == restore)].iloc[0]
            here, expected = _reference(row, folder)
            found = weights_digest(net.state_dict())
            if expected is None and os.environ.get("POSTHOC_RECORD_DIGESTS") == "1":
                processor_digests.record(here, {"networks": {**_recorded(here),
                                                             row["key"]: found}})
                continue
            if expected is None:
                pytest.skip(f"the committed networks were trained on {row['processor']}; "
                            f"this is {here}, whose training is not recorded in {processor_digests.RECORDED.name}")
            assert found == expected, (seed, restore, here)
