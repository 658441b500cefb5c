"""scikit-learn's estimator checks.

The checks test the estimators' API on toy tables (from 1 to 300 rows). They run with a search
no longer than the starting population (`max_individuals == population_size`), so that the
learner is the starting one (gradient-descent linear or logistic regression): every check
passes. With a real search, one check of each estimator fails on these toy tables, for reasons
in the data rather than in the API; they are listed, with why, for a short search below.

One check is skipped by scikit-learn itself unless SciPy's array API support is on:
`check_array_api_input` (conftest.py turns it on, so the check runs on NumPy arrays).
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl_zero import AutoMLZeroClassifier, AutoMLZeroRegressor

STARTING = dict(max_individuals=50, population_size=50, n_jobs=1, random_state=0)
SEARCHING = dict(max_individuals=300, population_size=100, n_jobs=1, random_state=0)

#: Checks a short search fails on these toy tables, and why, by estimator.
SEARCH_FAILS = {
    "AutoMLZeroClassifier": {
        "check_classifiers_train": (
            "the check wants 0.83 accuracy on the training rows of a 200-row blob table; this "
            "short search picks a learner that beats logistic regression on resamples of the "
            "rows (0.97) but predicts from the last example it trained on (Predict reads the "
            "last update, not the weights), which falls short (0.81) once trained on all rows"
        ),
    },
    "AutoMLZeroRegressor": {
        "check_fit_idempotent": (
            "the labels are pure noise, so every learner scores about as well as predicting 0, "
            "and this short search keeps one with a learning rate of 0.8 that diverges when "
            "trained on all 80 rows: fit raises ValueError saying so"
        ),
    },
}


@parametrize_with_checks(
    [AutoMLZeroRegressor(**STARTING), AutoMLZeroClassifier(**STARTING)],
    xfail_strict=True,
)
def test_sklearn_checks_pass(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [AutoMLZeroRegressor(**SEARCHING), AutoMLZeroClassifier(**SEARCHING)],
    expected_failed_checks=lambda estimator: SEARCH_FAILS[type(estimator).__name__],
    xfail_strict=True,
)
def test_sklearn_checks_with_a_short_search(estimator, check):
    check(estimator)
