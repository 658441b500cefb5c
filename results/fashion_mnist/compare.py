#!/usr/bin/env python3
"""Paired comparison of a program with the built-in neural_net on a config's final tasks.

    python3 results/fashion_mnist/compare.py BIN PROGRAM CONFIG SEED [--data-dir DIR] [--set K=V ...]

BIN is the automl-zero binary; PROGRAM a file or `builtin:NAME`; SEED the final tasks' data seed (`final_tasks.0.data_seeds`).
Prints the mean test accuracy of both, the mean per-task gain and its 95% interval
(t interval over the tasks).
"""
import json
import math
import subprocess
import sys


def run(bin_, what, config, seed, extra):
    cmd = [bin_, "eval", *what, "--config", config, "--json",
           "--set", f"final_tasks.0.data_seeds=[{seed}]", *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["per_task_test"]


def main():
    bin_, program, config, seed = sys.argv[1:5]
    extra = sys.argv[5:]
    what = ["--builtin", program[8:]] if program.startswith("builtin:") else [program]
    a = run(bin_, what, config, seed, extra)
    b = run(bin_, ["--builtin", "neural_net"], config, seed, extra)
    d = [x - y for x, y in zip(a, b)]
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    # t quantile 0.975 for n - 1 degrees of freedom (99 for 100 tasks: 1.984)
    t = {99: 1.984}.get(n - 1, 1.96 + 2.4 / max(n - 1, 1))
    half = t * sd / math.sqrt(n)
    print(json.dumps({
        "seed": int(seed), "tasks": n,
        "program": round(sum(a) / n, 4), "neural_net": round(sum(b) / n, 4),
        "gain": round(mean, 4), "ci95": [round(mean - half, 4), round(mean + half, 4)],
        "wins": sum(x > 0 for x in d), "losses": sum(x < 0 for x in d),
    }))


if __name__ == "__main__":
    main()
