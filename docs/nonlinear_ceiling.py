"""How well can the 2-layer network learn the SPEC 6.3 teacher? An independent numpy check.

The nonlinear integration config (configs/nonlinear.toml) evolves only the Setup of the
original's NEURAL_NET algorithm (SPEC 9): the initial weights and the learning rate. This script
simulates that network, with the teacher of SPEC 6.3 (F = 4; W and u drawn from N(0, 1), rows 0
and 2 of W and entries 0 and 2 of u set to zero; 1000 training and 100 validation examples, one
epoch, RMS error squashed to a fitness), for many random Setups on many random teachers, and
prints the best Setups found. It shares no code with the engine.

Usage: python3 docs/nonlinear_ceiling.py [SETUPS] [TEACHERS]   (defaults 300 and 12, ~1 minute)
"""

import sys

import numpy as np

F = 4


def teacher(rs):
    w = rs.normal(size=(F, F))
    u = rs.normal(size=F)
    w[0] = w[2] = 0.0
    u[0] = u[2] = 0.0
    return w, u


def fitness(w, u, rs, setup, n_train=1000, n_valid=100):
    """The NEURAL_NET algorithm of SPEC 9 trained by its own Learn, with the given Setup."""
    m0_mean, m0_sd, v2_mean, v2_sd, v1_mean, v1_sd, lr = setup
    x = rs.normal(size=(n_train + n_valid, F))
    y = np.maximum(x @ w.T, 0.0) @ u
    v2 = rs.normal(v2_mean, v2_sd, F)  # final-layer weights
    m0 = rs.normal(m0_mean, m0_sd, (F, F))  # first-layer weights
    v1 = rs.normal(v1_mean, v1_sd, F)  # first-layer bias
    s2 = 0.0  # final bias
    for k in range(n_train):
        v3 = m0 @ x[k] + v1
        v4 = np.maximum(v3, 0.0)
        err = y[k] - (v4 @ v2 + s2)
        if not np.isfinite(err) or abs(err) > 100.0:  # the executor's early stop: fitness 0
            return 0.0
        s4 = lr * err
        s2 += s4
        v2 = v2 + s4 * v4
        v7 = s4 * v2 * (v3 > 0)  # the original's quirk: the already updated v2
        v1 = v1 + v7
        m0 = m0 + np.outer(v7, x[k])
    pred = np.maximum(x[n_train:] @ m0.T + v1, 0.0) @ v2 + s2
    rms = np.sqrt(np.mean((y[n_train:] - pred) ** 2))
    return 1.0 - 2.0 / np.pi * np.arctan(rms) if np.isfinite(rms) else 0.0


def main():
    n_setups = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    n_teachers = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    rs = np.random.RandomState(1)
    teachers = [teacher(rs) for _ in range(n_teachers)]
    rows = []
    for _ in range(n_setups):
        setup = (
            rs.normal(0, 0.5), np.exp(rs.uniform(-4, 1)),  # m0 mean, sd
            rs.normal(0, 1), np.exp(rs.uniform(-4, 1)),  # v2 mean, sd
            rs.normal(0, 0.5), np.exp(rs.uniform(-5, 0)),  # v1 mean, sd
            np.exp(rs.uniform(np.log(0.003), np.log(0.1))),  # learning rate
        )
        f = np.array([fitness(w, u, rs, setup) for w, u in teachers])
        rows.append((np.median(f), np.mean(f >= 0.999), f.max(), setup))
    rows.sort(key=lambda r: -r[0])
    print("best Setups by median fitness over %d teachers:" % n_teachers)
    for med, frac, best, setup in rows[:5]:
        print("  median %.4f  share >= 0.999: %.2f  best %.5f  setup %s"
              % (med, frac, best, np.round(setup, 3)))
    print("runs: %d; runs reaching 0.999: %d; best single run: %.5f"
          % (n_setups * n_teachers, sum(round(r[1] * n_teachers) for r in rows),
             max(r[2] for r in rows)))


if __name__ == "__main__":
    main()
