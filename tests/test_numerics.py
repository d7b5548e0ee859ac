"""The processor-independent numerics: asked for when posthoc comes before torch, recorded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from posthoc import numerics


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in numerics.REQUESTED}
    return {**env, **extra}


def _in_force(first: str, **extra: str) -> str:
    code = (f"import {first}, posthoc, torch; from posthoc import numerics; "
            "print(numerics.in_force())")
    return subprocess.run([sys.executable, "-c", code], env=_clean_env(**extra), check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(not {"avx2", "fma"} <= numerics.cpu_flags(), reason="needs AVX2")
def test_posthoc_before_torch_computes_under_the_reproducible_setting():
    assert _in_force("posthoc") == numerics.REPRODUCIBLE


def test_torch_first_or_a_chosen_setting_is_left_alone_and_said():
    assert _in_force("torch").startswith("mkl-auto/")
    assert _in_force("posthoc", MKL_CBWR="AUTO").startswith("mkl-auto/")


def test_request_sets_only_what_the_environment_leaves_unset(monkeypatch):
    for name in numerics.REQUESTED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(numerics, "cpu_flags", lambda: frozenset({"sse2"}))
    monkeypatch.setenv("MKL_CBWR", "AVX2")
    assert not numerics.request()
    assert os.environ["MKL_CBWR"] == "AVX2"
    # No AVX2: torch's kernels are left to torch, which would stop on an illegal instruction.
    assert "ATEN_CPU_CAPABILITY" not in os.environ
    monkeypatch.delenv("MKL_CBWR")
    monkeypatch.setattr(numerics, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert numerics.request()
    assert os.environ["MKL_CBWR"] == "COMPATIBLE" and os.environ["ATEN_CPU_CAPABILITY"] == "avx2"


def test_a_record_names_the_setting_the_processor_and_torch():
    import torch

    record = numerics.record()
    assert record["torch"] == torch.__version__ and record["processor"]
    assert record["numerics"] == numerics.in_force()
