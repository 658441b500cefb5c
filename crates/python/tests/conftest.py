"""Shared data and helpers of the Python tests: small tables like users' (features on very
different scales, rows sorted by label), and the command-line binary to compare with."""

import os
import pathlib
import signal
import subprocess

# SciPy's array API support, read when SciPy is imported: without it scikit-learn skips its
# check_array_api_input check.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[3]

#: Estimator settings that keep a test fast: a short search, one thread.
FAST = dict(max_individuals=600, population_size=100, n_jobs=1)


def regression_table(n, seed=0):
    """3 features (areas, rooms, ages) and prices in the tens of thousands, sorted by price."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.normal(100, 30, n), rng.integers(1, 7, n).astype(float), rng.uniform(0, 80, n)]
    )
    y = 300 * X[:, 0] + 5000 * X[:, 1] - 150 * X[:, 2] + 20000 + rng.normal(0, 3000, n)
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def classification_table(n, seed=0):
    """6 features on scales from 0.1 to 100 and a noisy logistic label, sorted by label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, 6)) * [1, 10, 0.1, 5, 1, 100] + [0, 50, 0, -3, 2, 1000]
    z = 1.5 * X[:, 0] - (X[:, 1] - 50) / 10 + 8 * X[:, 2] + 0.2 * (X[:, 3] + 3) + (X[:, 5] - 1000) / 100
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(float)
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


@pytest.fixture(scope="session")
def regression():
    """A training table and held-out rows."""
    X, y = regression_table(400, seed=1)
    Xt, yt = regression_table(200, seed=2)
    return X, y, Xt, yt


@pytest.fixture(scope="session")
def classification():
    """A training table and held-out rows."""
    X, y = classification_table(400, seed=1)
    Xt, yt = classification_table(200, seed=2)
    return X, y, Xt, yt


@pytest.fixture(scope="session")
def cli():
    """The `automl-zero` binary: $AUTOML_ZERO_BIN, else the workspace's build (the tests that
    need it are skipped without one)."""
    given = os.environ.get("AUTOML_ZERO_BIN")
    if given:
        assert pathlib.Path(given).is_file(), f"AUTOML_ZERO_BIN={given} does not exist"
        return given
    for profile in ("release", "debug"):
        path = REPO / "target" / profile / "automl-zero"
        if path.is_file():
            return str(path)
    pytest.skip("no automl-zero binary: build it (cargo build) or set AUTOML_ZERO_BIN")


def run_cli(cli, *args, cwd):
    """Runs the command line, failing the test with its stderr if it fails."""
    out = subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, f"automl-zero {' '.join(args)}: {out.stderr}"
    return out


@pytest.fixture
def sigint_raises():
    """Python's own SIGINT handler for the test: a process started in the background by a
    non-interactive shell inherits SIGINT ignored, and the Ctrl-C tests would wait out their
    searches' time limits instead."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)
