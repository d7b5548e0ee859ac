"""The numerical setting under which posthoc computes, so that a network trained on one x86-64
processor is, bit for bit, the network trained on another of the same vendor.

Training repeats a step a thousand epochs long, and the last bits of each step depend on the
code path the linear algebra takes on the processor at hand. Measured on this project's
machine (compas-race, seed 0, 40 epochs, one thread): torch's vector kernels give the same
weights at ``avx2`` and ``avx512``, and only MKL's branch changes them; MKL documents its
``COMPATIBLE`` branch as the one that gives the same results on every x86-64 processor. So
posthoc asks for

* ``MKL_CBWR=COMPATIBLE`` (MKL's processor-independent code path) and
* ``ATEN_CPU_CAPABILITY=avx2`` (torch's vector kernels at AVX2 on every processor that has it),

with one thread per computation (:mod:`posthoc.threads`). Both variables are read once, when
torch starts, so :func:`request` sets them (unless the environment already sets them) when
posthoc is imported before torch; importing torch first leaves torch's own choice, and
:func:`in_force` says which setting a computation ran under. Every trained network and every
study cell records it, with the processor (:func:`processor`). Measured since: the same
setting gives the same weights on two AMD EPYC processors (with and without AVX-512), but
other weights on an Intel Xeon, so training is not identical across vendors (the cause is not
found; MKL is called only for SGEMM, under its COMPATIBLE branch). Computations that do not
train (evaluating a network, perturbing its weights) were identical on both. Processors
without AVX2, and machines that are not x86-64 (another BLAS), are outside all of this.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

#: The environment posthoc asks for, read by torch and MKL when torch starts.
REQUESTED = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2"}
#: The setting's name in records when every requested value is in force.
REPRODUCIBLE = "mkl-compatible/avx2"


def cpu_flags() -> frozenset[str]:
    """The processor's feature flags (``/proc/cpuinfo``; empty where there is none)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def request() -> bool:
    """Set every variable of :data:`REQUESTED` that the environment leaves unset, if torch
    has not started yet; return whether torch will start under them. The AVX2 kernels are
    asked for only on a processor that has AVX2 and FMA: elsewhere torch would stop with an
    illegal instruction."""
    if "torch" not in sys.modules:
        for name, value in REQUESTED.items():
            if name != "ATEN_CPU_CAPABILITY" or {"avx2", "fma"} <= cpu_flags():
                os.environ.setdefault(name, value)
    return all(os.environ.get(name, "").lower() == value.lower()
               for name, value in REQUESTED.items())


def processor() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what :mod:`platform` says."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def in_force() -> str:
    """The setting torch computes under: :data:`REPRODUCIBLE`, or the MKL branch and torch's
    vector kernels actually in use (for example ``mkl-auto/avx512``)."""
    import torch

    branch = os.environ.get("MKL_CBWR", "auto").split(",")[0].lower()
    capability = torch.backends.cpu.get_cpu_capability().lower()
    setting = f"mkl-{branch}/{capability}"
    return REPRODUCIBLE if setting == REPRODUCIBLE else setting


def record() -> dict[str, str]:
    """What a trained network or a study cell records of the machine that computed it."""
    import torch

    return {"numerics": in_force(), "processor": processor(), "torch": torch.__version__}


__all__ = ["REPRODUCIBLE", "REQUESTED", "cpu_flags", "in_force", "processor", "record", "request"]
