"""posthoc.repro.bench runs end to end on tiny settings and reports its comparison."""

from __future__ import annotations

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


def test_bad_arguments_are_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["training", "--seeds", "0"])
    assert "--seeds, --epochs and --trials must be positive" in capsys.readouterr().err


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
