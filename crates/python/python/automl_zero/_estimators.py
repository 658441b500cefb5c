"""scikit-learn estimators: a search on resampled tasks made from (X, y), then the found
learner trained on all of (X, y)."""

import math
import numbers
import os

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._core import Config, TrainedModel
from ._search import search

#: The search's time limit when neither `max_seconds` nor `max_individuals` is given (as
#: `automl-zero init` writes it).
DEFAULT_MAX_SECONDS = 600.0
#: The most features a table may have.
MAX_FEATURES = 32
#: Op presets that need more memory than the default (and get it unless `config` says).
_ROOMY_PRESETS = {"neural", "all"}


class _AutoMLZero(BaseEstimator):
    """What the regressor and the classifier share (see their documentation)."""

    _classification = False

    def __init__(
        self,
        *,
        max_seconds=None,
        max_individuals=None,
        random_state=None,
        n_jobs=None,
        population_size=None,
        ops=None,
        config=None,
        verbose=0,
    ):
        self.max_seconds = max_seconds
        self.max_individuals = max_individuals
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.population_size = population_size
        self.ops = ops
        self.config = config
        self.verbose = verbose

    # -- parameters --------------------------------------------------------------------------

    def _time_limit(self):
        """The search's time limit: `max_seconds`, else 600 s unless `max_individuals` ends it
        (then none, so that the result depends on the seed alone)."""
        if self.max_seconds is not None:
            _check_number("max_seconds", self.max_seconds, positive=True)
            return float(self.max_seconds)
        return None if self.max_individuals is not None else DEFAULT_MAX_SECONDS

    def _overrides(self):
        """The config keys the parameters set: roomier memory for the big op presets, then
        `config`, then the explicit parameters (which win)."""
        before, after = [], []
        if self.ops is not None:
            ops = _check_ops(self.ops)
            if isinstance(ops, str) and ops in _ROOMY_PRESETS:
                before += ["memory.vectors=9", "memory.matrices=3"]
            after += [_assign(f"search.{c}.ops", ops) for c in ("setup", "predict", "learn")]
        if self.population_size is not None:
            _check_number("population_size", self.population_size, integer=True, least=2)
            after.append(f"search.population_size={int(self.population_size)}")
        if self.max_individuals is not None:
            _check_number("max_individuals", self.max_individuals, integer=True, least=1)
            after.append(f"search.max_individuals={int(self.max_individuals)}")
        middle = [] if self.config is None else _core.overrides(_config_arg(self.config))
        return before + middle + after

    def _threads(self):
        """`n_jobs` as threads: None or -1 every core, -2 all but one, and so on."""
        n = self.n_jobs
        if n is None:
            return 0
        _check_number("n_jobs", n, integer=True)
        cores = os.cpu_count() or 1
        if n == 0:
            raise ValueError("n_jobs: 0 threads cannot run; give a positive number, or -1 for every core")
        return int(n) if n > 0 else max(1, cores + 1 + int(n))

    def _seed(self):
        """The run's seed, drawn from `random_state` (int, RandomState or None), never 0."""
        return int(check_random_state(self.random_state).randint(1, 2**31 - 1))

    # -- fitting -----------------------------------------------------------------------------

    def _search_and_train(self, X, y):
        """Searches on tasks resampled from (X, y) (labels 0/1 when classifying), trains the
        best learner on all of them, and sets the fitted attributes."""
        if X.shape[1] > MAX_FEATURES:
            raise ValueError(
                f"X has {X.shape[1]} features; the engine takes at most {MAX_FEATURES} "
                "(select or project features first)"
            )
        overrides = self._overrides()
        time_limit = self._time_limit()
        threads, seed = self._threads(), self._seed()
        try:
            config, baseline = Config._for_table(X, y, self._classification, time_limit, overrides)
        except ValueError as e:
            raise ValueError(f"config: {e}") from None
        result = search(config, seed=seed, threads=threads, verbose=self.verbose)
        self.algorithm_ = result.best
        self.summary_ = result.summary
        self.history_ = result.history
        self.fitness_ = result.summary.get("final_fitness")
        self.baseline_fitness_ = baseline
        try:
            self.model_ = TrainedModel.fit(result.best, config, X, y)
        except ValueError as e:
            # The search's result stays on the estimator to look at; it cannot predict.
            raise ValueError(
                f"{e}: the learner the search found (algorithm_) does not train on all of "
                "X; a longer search (max_seconds, max_individuals) finds steadier ones"
            ) from None
        return self

    def _outputs(self, X):
        """The trained learner's outputs for the rows of X."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=np.float64, order="C", reset=False)
        return self.model_.predict(X)


class AutoMLZeroRegressor(RegressorMixin, _AutoMLZero):
    """A regressor whose learning algorithm AutoML-Zero evolves for your data.

    `fit(X, y)` searches, as `automl-zero search` does on the config `automl-zero init` writes
    for a table: tasks that each resample the rows (shuffled, a quarter validated on, a fifth
    held out as test rows), features and labels standardised on each task's training rows,
    evolution starting from gradient-descent linear regression with the `linear` op preset,
    stopping when `max_seconds` or `max_individuals` is reached. Then it trains the best
    learner on all of (X, y) as the tasks train it; `predict` runs the learner's Predict on each
    new row (in the label's units).

    Parameters
    ----------
    max_seconds : float, optional
        The search's time limit. Default: 600, or none when `max_individuals` is given (so that
        the result depends on the seed alone).
    max_individuals : int, optional
        Candidates the search evaluates, at most.
    random_state : int, RandomState or None
        Draws the run's seed (`summary_["seed"]`: `automl-zero search --seed` with it finds the
        same algorithm). None: a new seed every fit.
    n_jobs : int, optional
        Threads (None or -1: every core). The result does not depend on it.
    population_size : int, optional
        Individuals in the population (default 500).
    ops : str or list of str, optional
        The ops programs may use: a preset (`"linear"`, the default; `"neural"`, also 2-layer
        networks; `"all"`) or op names (`automl-zero ops` lists them). `"neural"` and `"all"`
        also give the memory more room (9 vectors, 3 matrices).
    config : dict or path, optional
        Any other config key (docs/config.md), as a dict (`{"search.tournament_size": 20}`) or a
        TOML file holding such keys. The parameters above win over it.
    verbose : int
        Print the search's progress on stderr.

    Attributes
    ----------
    algorithm_ : Algorithm
        The learner found; prints as its program; `.simplify()`, `.to_python()`.
    fitness_ : float
        Its fitness on unseen resamples of the data (the final tasks' validation rows).
    baseline_fitness_ : float
        What least squares reaches on the select tasks: the search's stop fitness.
    summary_ : dict
        The run's summary (summary.json): fitnesses, metrics in the label's units, counts.
    history_ : list of dict
        The progress reports (progress.jsonl).
    model_ : TrainedModel
        The learner trained on all of (X, y).
    n_features_in_ : int
        Features seen in `fit`.

    Ctrl-C during `fit` stops the search within a second, keeping the best learner found so far
    (with a warning); the estimator is then fitted with it.
    """

    def fit(self, X, y):
        """Searches for a learner of (X, y) and trains it on all of them; returns self."""
        X, y = validate_data(
            self, X, y, dtype=np.float64, order="C", y_numeric=True, ensure_min_samples=3
        )
        return self._search_and_train(X, np.ascontiguousarray(y, dtype=np.float64))

    def predict(self, X):
        """The trained learner's prediction for each row of X, in the label's units."""
        return self._outputs(X)


class AutoMLZeroClassifier(ClassifierMixin, _AutoMLZero):
    """A binary classifier whose learning algorithm AutoML-Zero evolves for your data.

    As `AutoMLZeroRegressor` (same parameters and attributes), for two classes: any two labels
    (`classes_`, sorted; the second is the positive class), scored by accuracy. The search
    starts from gradient-descent logistic regression, and its stop fitness is what logistic
    regression reaches. `predict_proba` and `decision_function` give the learner's probability
    and logit of the positive class.
    """

    _classification = True

    def fit(self, X, y):
        """Searches for a learner of (X, y) and trains it on all of them; returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", ensure_min_samples=3)
        check_classification_targets(y)
        self.classes_, y01 = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); a classifier needs 2 classes"
            )
        kind = type_of_target(y, input_name="y")
        if kind != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {kind} "
                f"({len(self.classes_)} classes)."
            )
        return self._search_and_train(X, y01.astype(np.float64))

    def decision_function(self, X):
        """The learner's logit of the positive class (`classes_[1]`) for each row of X."""
        return self._outputs(X)

    def predict_proba(self, X):
        """The probabilities of `classes_[0]` and `classes_[1]` for each row of X."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """The class of each row of X."""
        p = expit(self.decision_function(X))
        return self.classes_[(p > 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _check_number(name, value, *, integer=False, positive=False, least=None):
    """Raises TypeError or ValueError naming the parameter unless `value` is a number of the
    kind asked for."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise TypeError(f"{name}: {value!r} is not {what}")
    if positive and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name}: {value!r} is not a positive, finite number")
    if least is not None and value < least:
        raise ValueError(f"{name}: {value!r} is less than {least}")


def _check_ops(ops):
    """`ops` as a preset name or a list of op names."""
    if isinstance(ops, str):
        return ops
    if isinstance(ops, (list, tuple)) and ops and all(isinstance(o, str) for o in ops):
        return list(ops)
    raise TypeError(f"ops: {ops!r} is neither a preset name nor a list of op names")


def _assign(key, value):
    """A `key=value` override."""
    return _core.overrides({key: value})[0]


def _config_arg(config):
    """The `config` parameter, checked to be a dict or a path."""
    if isinstance(config, (dict, str, os.PathLike)):
        return config
    raise TypeError(f"config: a {type(config).__name__} is neither a dict of keys nor a TOML path")
