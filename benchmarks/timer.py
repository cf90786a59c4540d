"""Interleaved timing of several contenders.

Every contender is calibrated to an inner loop long enough for the clock (one sample
>= ``sample_target`` seconds), then all contenders are run round-robin, in a shuffled
order each round, until the time budget is spent (at least ``min_repeats`` rounds).
The reported time of a contender is the minimum over rounds of (sample / inner): the
least-disturbed run, which is the most reproducible statistic on a shared machine.
The garbage collector is disabled while timing.
"""
import gc
import itertools
import random
import time
from dataclasses import dataclass, field

_clock = time.perf_counter


@dataclass
class Timing:
    best: float          # seconds per call (minimum over rounds)
    median: float        # seconds per call (median over rounds), for the noise-minded
    inner: int           # calls per sample
    repeats: int         # samples (rounds)
    samples: list = field(default_factory=list, repr=False)


def _sample(fn, inner):
    loop = itertools.repeat(None, inner)
    t0 = _clock()
    for _ in loop:
        fn()
    return _clock() - t0


def measure(contenders, *, budget, min_repeats=3, max_repeats=200, sample_target=2e-3, seed=0):
    """Time ``contenders`` (objects with ``.name``, ``.fn`` and ``.enter()``) interleaved.

    Returns {name: Timing}.  ``budget`` is the target wall time of the timed rounds in
    seconds; it is exceeded only when ``min_repeats`` rounds need more.
    """
    shuffler = random.Random(seed)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        # Calibrate (the callables were already run once by the correctness check).
        inner, per_call = {}, {}
        for c in contenders:
            c.enter()
            t = _sample(c.fn, 1)
            n = 1
            while t < sample_target / 10 and n < 10**6:   # too short to trust: grow
                n *= 10
                t = _sample(c.fn, n)
            per_call[c.name] = t / n
            inner[c.name] = max(1, min(10**6, int(round(sample_target / max(t / n, 1e-9)))))
        round_cost = sum(inner[c.name] * per_call[c.name] for c in contenders)
        repeats = int(min(max_repeats, max(min_repeats, budget / max(round_cost, 1e-9))))

        samples = {c.name: [] for c in contenders}
        order = list(contenders)
        for _ in range(repeats):
            shuffler.shuffle(order)
            for c in order:
                c.enter()
                samples[c.name].append(_sample(c.fn, inner[c.name]) / inner[c.name])
    finally:
        if was_enabled:
            gc.enable()
    out = {}
    for c in contenders:
        s = sorted(samples[c.name])
        out[c.name] = Timing(best=s[0], median=s[len(s) // 2], inner=inner[c.name],
                             repeats=len(s), samples=s)
    return out
