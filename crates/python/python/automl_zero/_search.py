"""`search`: the experiment protocol of a config, with a progress display and callbacks."""

import numbers
import os
import sys
import time
import warnings

from . import _core
from ._core import Config


class _Display:
    """Progress lines on stderr (at most one a second, and the stages of the run) when verbose;
    the run's warnings always, as Python warnings."""

    def __init__(self, verbose):
        self.verbose = bool(verbose)
        self.last = 0.0

    def progress(self, record):
        now = time.monotonic()
        if not self.verbose or now - self.last < 1.0:
            return
        self.last = now
        print(
            f"individuals {record['individuals']:,} · best {record['best']:.6f} · "
            f"mean {record['mean']:.6f} · {record['individuals_per_second']:,.0f}/s · "
            f"{record['elapsed_seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    def message(self, text):
        if text.startswith("warning: "):
            warnings.warn(text[len("warning: "):], UserWarning, stacklevel=4)
        elif self.verbose:
            print(text, file=sys.stderr, flush=True)


def search(config, *, seed=None, threads=None, out=None, callback=None, verbose=False):
    """Runs the search a config describes: experiments on its search tasks, the best candidate
    picked on its select tasks and scored on its final tasks, as `automl-zero search` does.

    Parameters
    ----------
    config : Config or path
        The experiment config (a `Config`, or the path of a TOML file).
    seed : int, optional
        The run's seed (default: the config's `random_seed`; 0 draws one). The same config and
        seed give the same result, on any number of threads, as the command line does.
    threads : int, optional
        Threads to evaluate on (default: every core). The result does not depend on it.
    out : path, optional
        Write a run folder there, as the command line does (config.toml, progress.jsonl,
        checkpoint.json, best.txt, summary.json...); `automl-zero predict` and
        `automl-zero search --resume` take it.
    callback : callable, optional
        Called with each progress report (a dict: `individuals`, `best`, `mean`, ...). It may
        return False to stop the search (the best found so far is kept, as with Ctrl-C); an
        exception it raises stops the search and is raised again.
    verbose : bool
        Print progress and the run's stages on stderr.

    Returns
    -------
    SearchResult
        `best` (an `Algorithm`), `summary` (summary.json's content as a dict), `history` (every
        progress report), `config` (as run, its seed filled in) and `interrupted`.

    Ctrl-C (KeyboardInterrupt) stops the search within a second: the best algorithm found so far
    is scored and returned, with `interrupted` True and a warning.
    """
    if isinstance(config, (str, os.PathLike)):
        config = Config.from_file(config)
    if not isinstance(config, Config):
        raise TypeError(f"config: a {type(config).__name__} is neither a Config nor a path")
    _check_count("seed", seed)
    _check_count("threads", threads)
    display = _Display(verbose)

    def on_progress(record):
        display.progress(record)
        return None if callback is None else callback(record)

    result = _core.search(
        config,
        seed=seed,
        threads=threads,
        out=None if out is None else os.fspath(out),
        on_progress=on_progress,
        on_message=display.message,
    )
    if result.interrupted:
        warnings.warn(
            "the search was stopped before its limits; the best algorithm found so far is kept",
            UserWarning,
            stacklevel=2,
        )
    return result


def _check_count(name, value):
    """Raises TypeError or ValueError naming the argument unless `value` is None or an integer
    of 0 or more."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {value!r} is not an integer")
    if value < 0:
        raise ValueError(f"{name}: {value!r} is negative")
