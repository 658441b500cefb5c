"""The scikit-learn estimators: fitting, predicting, parameters, persistence, bad input,
Ctrl-C, and the same algorithm as `automl-zero init` + `search` on the same table."""

import os
import pickle
import signal
import threading
import time

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score

from automl_zero import Algorithm, AutoMLZeroClassifier, AutoMLZeroRegressor
from conftest import FAST, run_cli


def rmse(p, y):
    return float(np.sqrt(np.mean((p - y) ** 2)))


@pytest.fixture(scope="module")
def fitted_regressor(regression):
    X, y, _, _ = regression
    return AutoMLZeroRegressor(random_state=4, **FAST).fit(X, y)


def test_the_regressor_predicts_about_as_well_as_least_squares(regression, fitted_regressor):
    X, y, Xt, yt = regression
    est = fitted_regressor
    ratio = rmse(est.predict(Xt), yt) / rmse(LinearRegression().fit(X, y).predict(Xt), yt)
    assert ratio < 1.2, ratio
    assert isinstance(est.algorithm_, Algorithm)
    assert str(est.algorithm_).startswith("def Setup():")
    assert 0 < est.fitness_ <= 1 and 0 < est.baseline_fitness_ <= 1
    assert est.n_features_in_ == 3
    # It stops at the individuals given, or once a candidate beats least squares.
    assert est.summary_["individuals"] <= FAST["max_individuals"]
    assert est.summary_["final_metrics"]["test"]["rmse"] > 0
    assert est.history_ and "best" in est.history_[-1]
    assert "def predict" in est.algorithm_.to_python()
    assert est.score(Xt, yt) > 0.8
    # A row's prediction does not depend on the rows predicted with it.
    assert np.array_equal(est.predict(Xt[5:9]), est.predict(Xt)[5:9])


def test_the_classifier_maps_any_two_classes(classification):
    X, y, Xt, yt = classification
    names = np.array(["no", "yes"])
    est = AutoMLZeroClassifier(random_state=2, **FAST).fit(X, names[y.astype(int)])
    assert list(est.classes_) == ["no", "yes"]
    predicted = est.predict(Xt)
    assert set(predicted) <= {"no", "yes"}
    accuracy = np.mean(predicted == names[yt.astype(int)])
    baseline = LogisticRegression(max_iter=5000).fit(X, y).score(Xt, yt)
    assert accuracy > baseline - 0.05, (accuracy, baseline)
    proba = est.predict_proba(Xt)
    assert proba.shape == (len(Xt), 2) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(names[(proba[:, 1] > 0.5).astype(int)], predicted)
    assert np.array_equal(est.decision_function(Xt) > 0, proba[:, 1] > 0.5)


def test_results_do_not_depend_on_n_jobs(regression):
    X, y, _, _ = regression
    one = AutoMLZeroRegressor(random_state=5, **{**FAST, "n_jobs": 1}).fit(X, y)
    two = AutoMLZeroRegressor(random_state=5, **{**FAST, "n_jobs": 2}).fit(X, y)
    assert str(one.algorithm_) == str(two.algorithm_)
    assert np.array_equal(one.predict(X), two.predict(X))


def test_parameters_clone_and_set(fitted_regressor):
    est = AutoMLZeroRegressor(max_seconds=5, random_state=3, ops="neural", config={"search.tournament_size": 5})
    params = clone(est).get_params()
    assert params == est.get_params()
    assert params["max_seconds"] == 5 and params["config"] == {"search.tournament_size": 5}
    assert not hasattr(clone(fitted_regressor), "algorithm_")
    est.set_params(population_size=200)
    assert est.population_size == 200


def test_a_fitted_estimator_pickles(regression, fitted_regressor, tmp_path):
    _, _, Xt, _ = regression
    again = pickle.loads(pickle.dumps(fitted_regressor))
    assert np.array_equal(again.predict(Xt), fitted_regressor.predict(Xt))
    assert str(again.algorithm_) == str(fitted_regressor.algorithm_)
    joblib.dump(fitted_regressor, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert np.array_equal(loaded.predict(Xt), fitted_regressor.predict(Xt))


def test_cross_validation_runs(classification):
    X, y, _, _ = classification
    scores = cross_val_score(AutoMLZeroClassifier(random_state=0, **FAST), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_bad_input_raises_errors_naming_the_problem(regression, fitted_regressor):
    X, y, _, _ = regression
    est = AutoMLZeroRegressor(**FAST)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, y)
    with pytest.raises(ValueError, match="2D array"):
        est.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="could not convert string"):
        est.fit(np.array([["a", "b", "c"]] * 20), y[:20])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="33 features.*at most 32"):
        est.fit(np.zeros((10, 33)), np.arange(10.0))
    with pytest.raises(ValueError, match="Only binary classification"):
        AutoMLZeroClassifier(**FAST).fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="1 class"):
        AutoMLZeroClassifier(**FAST).fit(X, np.ones(len(X)))
    for seconds in (-1, 0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="max_seconds.*not a positive, finite number"):
            AutoMLZeroRegressor(max_seconds=seconds).fit(X, y)
    with pytest.raises(ValueError, match="search.max_seconds: .* at most 1e9"):
        AutoMLZeroRegressor(max_seconds=1e12, **FAST).fit(X, y)
    with pytest.raises(TypeError, match="population_size.*not an integer"):
        AutoMLZeroRegressor(population_size="many").fit(X, y)
    with pytest.raises(TypeError, match="ops"):
        AutoMLZeroRegressor(ops=3).fit(X, y)
    with pytest.raises(ValueError, match="n_jobs"):
        AutoMLZeroRegressor(n_jobs=0).fit(X, y)
    with pytest.raises(ValueError, match=r"config: .*tournamnet_size.*tournament_size"):
        AutoMLZeroRegressor(config={"search.tournamnet_size": 3}, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="search.learn.ops.*bogus_op"):
        AutoMLZeroRegressor(ops=["bogus_op"], **FAST).fit(X, y)
    with pytest.raises(TypeError, match="config"):
        AutoMLZeroRegressor(config=[1, 2]).fit(X, y)
    with pytest.raises(NotFittedError):
        AutoMLZeroRegressor().predict(X)
    with pytest.raises(ValueError, match="X has 2 features"):
        fitted_regressor.predict(X[:, :2])


def test_a_config_file_sets_other_keys(regression, tmp_path):
    X, y, _, _ = regression
    path = tmp_path / "more.toml"
    path.write_text("[search]\ntournament_size = 4\nmutate_prob = 0.5\n")
    est = AutoMLZeroRegressor(config=str(path), random_state=1, **FAST).fit(X, y)
    assert est.summary_["individuals"] <= FAST["max_individuals"]
    (tmp_path / "bad.toml").write_text("[search]\ntournament_size = 0\n")
    with pytest.raises(ValueError, match="tournament_size"):
        AutoMLZeroRegressor(config=tmp_path / "bad.toml", **FAST).fit(X, y)


def test_ctrl_c_during_fit_keeps_the_best_found_so_far(regression, sigint_raises):
    X, y, Xt, _ = regression
    # A search that beating least squares does not stop.
    no_stop = {"search.stop_at_sufficient_fitness": False}
    est = AutoMLZeroRegressor(max_seconds=60, random_state=0, n_jobs=2, config=no_stop)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.warns(UserWarning, match="stopped before its limits"):
        est.fit(X, y)
    timer.cancel()
    assert 1.0 < time.monotonic() - start < 1.0 + 2.0
    assert est.summary_["interrupted"]
    assert np.all(np.isfinite(est.predict(Xt)))


def test_other_python_threads_run_during_fit(regression):
    X, y, _, _ = regression
    # A fit of two seconds on one thread (beating least squares does not stop it), while
    # another Python thread notes the time every 10 ms: it runs all along only if fit releases
    # the GIL (holding it, fit would let it in at progress reports at best).
    est = AutoMLZeroRegressor(
        max_seconds=2, random_state=0, n_jobs=1,
        config={"search.stop_at_sufficient_fitness": False, "search.progress_every": 10**9},
    )
    ticks, done = [], threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    thread = threading.Thread(target=tick)
    start = time.monotonic()
    thread.start()
    est.fit(X, y)
    end = time.monotonic()
    done.set()
    thread.join()
    assert end - start >= 2.0
    during = [start] + [t for t in ticks if start <= t <= end] + [end]
    longest = max(b - a for a, b in zip(during, during[1:]))
    assert len(during) > 50 and longest < 0.5, (len(during), longest)


def test_verbose_shows_progress(regression, capfd):
    X, y, _, _ = regression
    AutoMLZeroRegressor(random_state=0, verbose=1, **FAST).fit(X, y)
    err = capfd.readouterr().err
    assert "Experiment 0: evolving on the search tasks" in err
    assert "individuals" in err and "best" in err


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_the_estimator_finds_what_init_and_search_find(task, regression, classification, tmp_path, cli):
    X, y, _, _ = regression if task == "regression" else classification
    kind = AutoMLZeroRegressor if task == "regression" else AutoMLZeroClassifier
    est = kind(random_state=8, **FAST).fit(X, y)
    # The same table as a file that reads back exactly.
    np.savetxt(tmp_path / "table.csv", np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    run_cli(cli, "init", "--data", "table.csv", "--task", task, "--out", "table.toml", cwd=tmp_path)
    seed = str(est.summary_["seed"])
    run_cli(cli, "search", "table.toml", "--seed", seed, "--quiet", "--out", "run",
            "--set", f"search.max_individuals={FAST['max_individuals']}",
            "--set", f"search.population_size={FAST['population_size']}", cwd=tmp_path)
    assert (tmp_path / "run" / "best.txt").read_text() == str(est.algorithm_)
    # `automl-zero predict` trains it on all rows as the estimator does.
    np.savetxt(tmp_path / "new.csv", X[:50], delimiter=",", fmt="%.17g")
    out = run_cli(cli, "predict", "run", "--input", "new.csv", cwd=tmp_path)
    column = np.loadtxt(out.stdout.splitlines()[1:], delimiter=",", ndmin=2)[:, 0]
    if task == "regression":
        np.testing.assert_allclose(column, est.predict(X[:50]), rtol=1e-12)
    else:
        np.testing.assert_array_equal(column, est.predict(X[:50]))
