"""Each processor's digests of training's operations (posthoc.repro.processor_digests)."""

import pytest

from posthoc import numerics
from posthoc.repro import processor_digests as digests


def test_the_digests_name_every_operation_and_repeat():
    first, second = digests.operation_digests(), digests.operation_digests()
    assert list(first) == list(digests.OPERATIONS)
    assert first == second
    assert all(len(value) == 16 for value in first.values())
    # Different results give different digests: the operations are not all alike.
    assert len(set(first.values())) == len(first)


def test_this_processor_computes_what_it_recorded(data_dir):
    # On a recorded processor, today's code and torch compute the recorded bits; a change of
    # torch, MKL or the trainer shows here, operation by operation.
    record = digests.recorded().get(numerics.processor())
    if record is None:
        pytest.skip(f"{numerics.processor()} is not recorded in {digests.RECORDED.name} "
                    "(python -m posthoc.repro.processor_digests --record)")
    assert digests.operation_digests() == record["operations"]
    assert digests.training_digests((1, 2), data_dir=str(data_dir)) == {
        k: record["epochs"][k] for k in ("1", "2")}


def test_the_comparison_says_where_processors_part():
    here = {"operations": {"a": "1", "b": "2"}, "epochs": {"1": "x", "2": "y"}}
    other = {"operations": {"a": "1", "b": "3"}, "epochs": {"1": "x"}}
    table = digests.compare(here, {"other": other})
    assert table["other"].tolist() == ["same", "differs", "same", "not recorded"]


def test_the_committed_network_is_found_and_digested():
    committed = digests.committed_digests()
    assert len(committed) == 1
    (record,) = committed.values()
    assert len(record["epochs"]["40"]) == 16


def test_recording_keeps_the_rest_of_a_processor_s_record(tmp_path):
    path = tmp_path / "digests.json"
    digests.record("cpu", {"networks": {"k": "d"}}, path)
    digests.record("cpu", {"operations": {"a": "1"}}, path)
    assert digests.recorded(path) == {"cpu": {"networks": {"k": "d"}, "operations": {"a": "1"}}}
