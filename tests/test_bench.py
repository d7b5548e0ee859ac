"""posthoc.repro.bench runs end to end on tiny settings and reports its comparison."""

from __future__ import annotations

import pytest

from posthoc.repro.bench import (bench_layerwise, bench_layerwise_run, bench_random,
                                  bench_training, main)


def test_random_benchmark_agrees_and_prints_the_speedup_last(data_dir, capsys):
    figures = bench_random("compas-race", trials=6, network_epochs=2, data_dir=str(data_dir))
    assert figures["same"] and figures["loop_s"] > 0 and figures["batched_s"] > 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"speedup: {figures['ratio']:.1f}x"


def test_training_benchmark(data_dir, capsys):
    figures = bench_training("compas-race", n_seeds=2, epochs=1, data_dir=str(data_dir))
    assert figures["ratio"] > 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("training speedup: ")


@pytest.mark.parametrize("argument", ["--seeds", "--workers"])
def test_bad_arguments_are_refused(capsys, argument):
    with pytest.raises(SystemExit):
        main(["training", argument, "0"])
    assert ("--seeds, --epochs, --trials and --workers must be positive"
            in capsys.readouterr().err)


def test_layerwise_benchmark_runs_both_optimisers(data_dir, capsys):
    figures = bench_layerwise("compas-race", layer="head", calls=12, network_epochs=2,
                              full=False, data_dir=str(data_dir))
    assert figures["skopt_s"] > 0 and figures["gbrt_s"] > 0
    assert figures["ratio"] == figures["skopt_s"] / figures["gbrt_s"]
    out = capsys.readouterr().out
    assert "scikit-optimize Optimizer" in out and "layer-wise speedup on one layer" in out


def test_full_run_benchmark_gives_the_same_result_both_ways(data_dir, capsys):
    figures = bench_layerwise_run("compas-race", calls=15, layers=["body.4", "head"],
                                  network_epochs=2, data_dir=str(data_dir))
    assert figures["same"] and figures["straightforward_s"] > 0 and figures["fast_s"] > 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2] == "same result: yes"
    assert lines[-1] == ("layer-wise speedup on a full run (compas-race): "
                         f"{figures['ratio']:.1f}x")


def _spinners() -> int:
    """Children of this process that run posthoc.repro.load's competing loop."""
    import os
    from pathlib import Path

    found = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"while True" in cmdline:
            found += 1
    return found


def test_busy_mode_runs_each_comparison_idle_then_beside_a_competing_process(capsys):
    from posthoc.repro.bench import run_comparisons

    seen = []

    def comparison():
        seen.append(_spinners())
        return {"ratio": 10.0 / (1 + seen[-1]), "threads": 2 - seen[-1]}

    table = run_comparisons([("toy", comparison)], busy=True)
    assert seen == [0, 1]                       # idle first, then one competing process
    assert table.loc["toy"].to_dict() == {"idle": 10.0, "busy": 5.0}
    assert _spinners() == 0                     # stopped afterwards
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].startswith("speedup") and lines[-2].split() == ["idle", "busy"]
    assert lines[-1].split() == ["toy", "10.0x", "(2", "threads)", "5.0x", "(1", "thread)"]


def test_auto_threads_count_the_idle_cores(tmp_path):
    """"auto" takes one thread per core no other process runs on, and one thread when the
    kernel's count cannot be read."""
    from posthoc.threads import check_threads, idle_cores

    loadavg = tmp_path / "loadavg"
    for running, idle in ((1, 4), (2, 3), (4, 1), (9, 0)):
        loadavg.write_text(f"0.50 0.40 0.30 {running}/321 4567\n")
        assert idle_cores(loadavg=loadavg, cores=4, reads=2, pause_s=0) == idle
    assert idle_cores(loadavg=tmp_path / "missing", cores=4) == 0
    assert check_threads(3) == 3 and check_threads("auto") >= 1
    with pytest.raises(ValueError, match="threads must be an integer >= 1 or 'auto'; got 'two'"):
        check_threads("two")


def test_auto_threads_see_a_competing_process():
    """Beside one spinning process, a 2-core machine has at most one idle core."""
    from posthoc.repro.load import competing_process
    from posthoc.threads import idle_cores, usable_cores

    with competing_process():
        assert idle_cores() <= usable_cores() - 1
