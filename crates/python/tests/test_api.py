"""The lower-level API: Config, Algorithm, search (and the same results as the command line)."""

import json
import os
import pickle
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import automl_zero as az
from conftest import REPO, run_cli

LINEAR_PROGRAM = """def Setup():
  s2 = 0.05
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s3 = s0 - s1
  s3 = s2 * s3
  v2 = s3 * v0
  v1 = v1 + v2
"""

#: configs/linear.toml made quick: two short experiments, fewer and smaller select/final tasks.
QUICK = {
    "max_experiments": 2,
    "search.max_individuals": 3000,
    "search.population_size": 100,
    "select_tasks.0.num_tasks": 5,
    "select_tasks.0.num_train_examples": 500,
    "final_tasks.0.num_tasks": 5,
    "final_tasks.0.num_train_examples": 500,
}


def quick_config():
    return az.Config.from_file(REPO / "configs" / "linear.toml", QUICK)


# -- Config ----------------------------------------------------------------------------------


def test_a_config_reads_sets_and_gets_keys():
    c = quick_config()
    assert c.get("search.population_size") == 100
    assert c.get("final_tasks.0.num_tasks") == 5
    c.set("search.tournament_size", 7)
    c.set("search.learn.ops", ["scalar_diff", "vector_sum"])
    assert c.get("search.tournament_size") == 7
    assert c.get("search.learn.ops") == ["scalar_diff", "vector_sum"]
    assert "tournament_size = 7" in c.to_toml()
    assert c.features_size == 4
    assert os.path.samefile(c.base_dir, REPO / "configs")
    # A copy is independent; a pickle is equal.
    d = c.copy()
    d.set("search.tournament_size", 9)
    assert c.get("search.tournament_size") == 7
    assert pickle.loads(pickle.dumps(c)) == c


def test_config_errors_name_the_key():
    c = az.Config.demo()
    with pytest.raises(ValueError, match=r"populaton_size.*did you mean `population_size`"):
        c.set("search.populaton_size", 10)
    with pytest.raises(ValueError, match="search.population_size"):
        c.set("search.population_size", "many")
    with pytest.raises(TypeError, match=r"search.x: a object is not a config value"):
        c.set("search.x", object())
    with pytest.raises(KeyError, match="search.nothing"):
        c.get("search.nothing")
    # A failed set leaves the config as it was.
    assert c.get("search.population_size") == az.Config.demo().get("search.population_size")
    with pytest.raises(FileNotFoundError, match="nowhere.toml"):
        az.Config.from_file("nowhere.toml")
    with pytest.raises(ValueError, match="the config text"):
        az.Config.from_text("[search]\npopulation_size = 1\n")


# -- Algorithm -------------------------------------------------------------------------------


def test_an_algorithm_prints_as_the_text_it_reads():
    a = az.Algorithm.from_text(LINEAR_PROGRAM)
    assert str(a) == LINEAR_PROGRAM
    assert len(a) == 6
    assert az.Algorithm.from_text(str(a)) == a
    assert az.Algorithm.from_json(a.to_json()) == a
    assert pickle.loads(pickle.dumps(a)) == a
    assert str(a.simplify()).count("\n") <= LINEAR_PROGRAM.count("\n")
    assert "# the prediction" in a.annotated() or "dot(v1, v0)" in a.annotated()
    with pytest.raises(ValueError, match="line 3"):
        az.Algorithm.from_text("def Setup():\ndef Predict():\n  s1 = nonsense(v1)\ndef Learn():\n")
    with pytest.raises(ValueError, match="s9"):
        az.Algorithm.from_text("def Setup():\n  s9 = 0.5\ndef Predict():\ndef Learn():\n", scalars=4)


def test_an_exported_module_learns_like_the_engine(regression):
    X, y, Xt, yt = regression
    a = az.Algorithm.from_text(LINEAR_PROGRAM)
    namespace = {}
    exec(a.to_python(features=4), namespace)
    model = namespace["Model"]().fit(X, y)
    assert np.all(np.isfinite(model.predict(Xt)))
    assert "fn predict" in a.export("rust", features=4)
    with pytest.raises(ValueError, match="language"):
        a.export("cobol")


def test_evaluate_on_a_config_and_on_arrays(regression, tmp_path, cli):
    c = quick_config()
    a = az.Algorithm.from_text(LINEAR_PROGRAM, c)
    scores = a.evaluate(c)
    assert len(scores["per_task"]) == 5
    assert 0.9 < scores["fitness"] <= 1.0
    # The same as `automl-zero eval` on the same tasks.
    (tmp_path / "p.txt").write_text(LINEAR_PROGRAM)
    sets = [f"--set={k}={v}" for k, v in QUICK.items()]
    out = run_cli(cli, "eval", "p.txt", "--config", str(REPO / "configs" / "linear.toml"),
                  "--json", *sets, cwd=tmp_path)
    assert json.loads(out.stdout)["fitness"] == scores["fitness"]
    X, y, _, _ = regression
    on_table = a.evaluate(x=X, y=y)
    assert on_table["metrics"]["test"]["rmse"] < 0.5 * np.std(y)
    with pytest.raises(ValueError, match="tasks"):
        a.evaluate(c, tasks="some")
    with pytest.raises(ValueError, match="not both"):
        a.evaluate(c, x=X, y=y)


# -- search ----------------------------------------------------------------------------------


def test_a_search_is_the_same_on_any_number_of_threads():
    one = az.search(quick_config(), seed=11, threads=1)
    two = az.search(quick_config(), seed=11, threads=2)
    assert str(one.best) == str(two.best)
    strip = lambda s: {k: v for k, v in s.items() if k != "elapsed_seconds"}
    assert strip(one.summary) == strip(two.summary)
    assert one.summary["experiments"] == 2
    assert one.config.get("random_seed") == 11
    assert not one.interrupted
    assert all("best" in record for record in one.history)


def test_python_and_the_command_line_find_the_same_algorithm(tmp_path, cli):
    result = az.search(quick_config(), seed=5, threads=2, out=tmp_path / "py")
    sets = [f"--set={k}={v}" for k, v in QUICK.items()]
    run_cli(cli, "search", str(REPO / "configs" / "linear.toml"), "--seed", "5", "--quiet",
            "--out", "cli", *sets, cwd=tmp_path)
    assert (tmp_path / "cli" / "best.txt").read_text() == str(result.best)
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert cli_summary["final_fitness"] == result.summary["final_fitness"]
    # The folder written from Python is the command line's own.
    py = tmp_path / "py"
    assert (py / "best.txt").read_text() == str(result.best)
    assert json.loads((py / "summary.json").read_text()) == result.summary
    lines = (py / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == result.history
    out = run_cli(cli, "eval", "best.txt", "--config", "config.toml", "--json", cwd=py)
    assert json.loads(out.stdout)["fitness"] == result.summary["final_fitness"]
    with pytest.raises(ValueError, match="already holds a run"):
        az.search(quick_config(), seed=5, out=py)


def test_callbacks_see_progress_and_may_stop_the_search():
    seen = []
    c = quick_config()
    c.set("search.progress_every", 500)
    az.search(c, seed=3, threads=1, callback=seen.append)
    assert len(seen) >= 6 and seen[-1]["individuals"] == 3000
    with pytest.warns(UserWarning, match="stopped before its limits"):
        stopped = az.search(c, seed=3, threads=1, callback=lambda r: r["individuals"] < 1000)
    assert stopped.interrupted and stopped.summary["individuals"] < 3000

    def fails(record):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        az.search(c, seed=3, threads=1, callback=fails)


def test_search_arguments_are_checked():
    c = quick_config()
    with pytest.raises(ValueError, match="seed: -1 is negative"):
        az.search(c, seed=-1)
    with pytest.raises(TypeError, match="threads: 1.5 is not an integer"):
        az.search(c, threads=1.5)
    with pytest.raises(ValueError, match="threads: 100000 threads is more than"):
        az.search(c, threads=100000)
    with pytest.raises(TypeError, match="config: a dict is neither a Config nor a path"):
        az.search({"search.population_size": 10})
    with pytest.raises(ValueError, match="search.max_seconds: must be a number of seconds"):
        c.set("search.max_seconds", float("inf"))


def test_ctrl_c_stops_a_search_within_a_second_keeping_the_best(sigint_raises):
    c = quick_config()
    c.set("search.max_individuals", 10**9)
    c.set("search.max_seconds", 60)
    c.set("max_experiments", 1)
    c.set("search.stop_at_sufficient_fitness", False)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.warns(UserWarning, match="stopped before its limits"):
        result = az.search(c, seed=1, threads=2)
    timer.cancel()
    elapsed = time.monotonic() - start
    assert 1.0 < elapsed < 1.0 + 2.0, elapsed
    assert result.interrupted and result.summary["stop_reason"] == "interrupted"
    assert len(result.best) > 0 and result.summary["final_fitness"] is not None
