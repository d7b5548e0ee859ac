"""Each processor's digests of training's operations (posthoc.repro.processor_digests)."""

import pytest

from posthoc import numerics
from posthoc.repro import processor_digests as pd_


def test_the_digests_name_every_operation_and_repeat():
    first, second = pd_.operation_digests(), pd_.operation_digests()
    assert list(first) == list(pd_.OPERATIONS)
    assert first == second
    assert all(len(value) == 16 for value in first.values())
    # Different results give different digests: the operations are not all alike.
    assert len(set(first.values())) == len(first)


def test_this_processor_computes_what_it_recorded(data_dir):
    # On a recorded processor, today's code and torch compute the recorded bits; a change of
    # torch, MKL or the trainer shows here, operation by operation.
    record = pd_.recorded().get(numerics.processor())
    if record is None:
        pytest.skip(f"{numerics.processor()} is not recorded in {pd_.RECORDED.name} "
                    "(python -m posthoc.repro.processor_digests --record)")
    assert pd_.operation_digests() == record["operations"]
    assert pd_.training_digests((1, 2), data_dir=str(data_dir)) == {
        k: record["epochs"][k] for k in ("1", "2")}


def test_the_comparison_says_where_processors_part():
    here = {"operations": {"a": "1", "b": "2"}, "epochs": {"1": "x", "2": "y"}}
    other = {"operations": {"a": "1", "b": "3"}, "epochs": {"1": "x"}}
    table = pd_.compare(here, {"other": other})
    assert table["other"].tolist() == ["same", "differs", "same", "not recorded"]


def test_the_committed_network_is_found_and_digested():
    committed = pd_.committed_digests()
    assert len(committed) == 1
    (record,) = committed.values()
    assert len(record["epochs"]["40"]) == 16
