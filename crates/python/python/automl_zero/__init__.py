"""AutoML-Zero: evolve whole machine-learning algorithms from basic math operations.

The engine (written in Rust) searches for programs — Setup, Predict and Learn over small scalar,
vector and matrix memories — that learn the tasks you give it.

- `AutoMLZeroRegressor`, `AutoMLZeroClassifier`: scikit-learn estimators that search for a
  learner of your table and train it.
- `Config`, `search`, `Algorithm`: the engine's configs (TOML, as the `automl-zero` command
  reads them), its search, and the programs it finds.

See docs/python.md in the repository for a worked example.
"""

from ._core import Algorithm, Config, SearchResult, TrainedModel, __version__
from ._estimators import AutoMLZeroClassifier, AutoMLZeroRegressor
from ._search import search

__all__ = [
    "Algorithm",
    "AutoMLZeroClassifier",
    "AutoMLZeroRegressor",
    "Config",
    "SearchResult",
    "TrainedModel",
    "__version__",
    "search",
]
