"""The Bass diffusion model, fitted by a small pure-Python least squares.

The share of a tenant's members activated ``t`` days after it was turned on is

    F(t) = (1 − e^(−(p+q)t)) / (1 + (q/p)·e^(−(p+q)t))

with ``p`` the innovation coefficient (members who start on their own) and ``q`` the imitation
coefficient (members who start because their branch did). The market is the tenant's members,
so F rises to 1. Two parameters, a few hundred points: a coarse grid for a starting point, then
Levenberg–Marquardt on (log p, log q), which keeps both positive. numpy/scipy would not earn
their place for a 2×2 system.

Invariants: :func:`fit` never raises on data (it answers None when no fit is found), and every
function here is pure and deterministic (the bootstrap takes its seed).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

GRID_P = tuple(10 ** (k / 4) for k in range(-20, -3))  # 1e-5 … 0.06
GRID_Q = tuple(10 ** (k / 4) for k in range(-16, 1))  # 1e-4 … 1
STARTS = 3  # Levenberg–Marquardt runs from the best grid points (one may fall into q → 0)
BOUNDS = (math.log(1e-8), math.log(10.0))  # of log p and log q
MAX_ITERATIONS = 60
TOLERANCE = 1e-9
MAX_DAMPING = 1e4
STEP = 1e-6  # the finite-difference step in log space


@dataclass(frozen=True, slots=True)
class Point:
    t: float  # days since the tenant was turned on
    share: float  # activated members / members, in [0, 1]
    weight: float = 1.0  # e.g. the members behind the share


@dataclass(frozen=True, slots=True)
class Fit:
    p: float
    q: float
    rmse: float  # root mean square of the weighted residuals, in share units
    points: int

    def share(self, t: float) -> float:
        return share(self.p, self.q, t)

    def days_to(self, target: float) -> float | None:
        return days_to(self.p, self.q, target)


def share(p: float, q: float, t: float) -> float:
    """F(t): the share activated ``t`` days in."""
    decay = math.exp(-(p + q) * max(t, 0.0))
    return (1 - decay) / (1 + (q / p) * decay)


def days_to(p: float, q: float, target: float) -> float | None:
    """The ``t`` at which F(t) = ``target`` (closed form); None when never (target ≥ 1)."""
    if target >= 1:
        return None
    if target <= 0:
        return 0.0
    return math.log((1 + (q / p) * target) / (1 - target)) / (p + q)


def _residuals(points: Sequence[Point], log_p: float, log_q: float) -> list[float]:
    p, q = math.exp(log_p), math.exp(log_q)
    return [math.sqrt(pt.weight) * (share(p, q, pt.t) - pt.share) for pt in points]


def _sse(points: Sequence[Point], log_p: float, log_q: float) -> float:
    try:
        return sum(r * r for r in _residuals(points, log_p, log_q))
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _starts(points: Sequence[Point]) -> list[tuple[float, float]]:
    candidates = [(math.log(p), math.log(q)) for p in GRID_P for q in GRID_Q]
    return sorted(candidates, key=lambda c: _sse(points, *c))[:STARTS]


def _bounded(x: tuple[float, float]) -> tuple[float, float]:
    low, high = BOUNDS
    return min(high, max(low, x[0])), min(high, max(low, x[1]))


def _step(points: Sequence[Point], x: tuple[float, float], damping: float) -> tuple[float, float]:
    """One Levenberg–Marquardt step from ``x``: solve (JᵀJ + λ·diag) δ = −Jᵀr."""
    r = _residuals(points, *x)
    ja = [(a - b) / STEP for a, b in zip(_residuals(points, x[0] + STEP, x[1]), r, strict=True)]
    jb = [(a - b) / STEP for a, b in zip(_residuals(points, x[0], x[1] + STEP), r, strict=True)]
    aa = sum(v * v for v in ja) * (1 + damping)
    bb = sum(v * v for v in jb) * (1 + damping)
    ab = sum(u * v for u, v in zip(ja, jb, strict=True))
    ga = -sum(u * v for u, v in zip(ja, r, strict=True))
    gb = -sum(u * v for u, v in zip(jb, r, strict=True))
    det = aa * bb - ab * ab
    if det == 0:
        return x
    return _bounded((x[0] + (ga * bb - gb * ab) / det, x[1] + (aa * gb - ab * ga) / det))


def fit(points: Sequence[Point], *, near: Fit | None = None) -> Fit | None:
    """The least-squares (p, q) for ``points``, searched from ``near`` when given (else from a
    coarse grid); None for fewer than 3 usable points or no fit."""
    usable = [pt for pt in points if pt.weight > 0 and 0 <= pt.share <= 1 and pt.t > 0]
    if len(usable) < 3:
        return None
    starts = _starts(usable) if near is None else [(math.log(near.p), math.log(near.q))]
    runs = [_descend(usable, x) for x in starts]
    x, best = min(runs, key=lambda run: run[1])
    return _result(usable, x, best)


def _descend(points: Sequence[Point], x: tuple[float, float]) -> tuple[tuple[float, float], float]:
    """Levenberg–Marquardt from ``x``: the point reached and its sum of squares."""
    damping, best = 1e-3, _sse(points, *x)
    for _ in range(MAX_ITERATIONS):
        try:
            candidate = _step(points, x, damping)
        except (OverflowError, ZeroDivisionError):
            return x, best
        error = _sse(points, *candidate)
        if error < best:
            done = best - error < TOLERANCE * max(best, TOLERANCE)
            x, best, damping = candidate, error, damping / 10
            if done:
                break
        else:
            damping *= 10
            if damping > MAX_DAMPING:  # no step downhill however short: at the minimum
                break
    return x, best


def _result(points: Sequence[Point], x: tuple[float, float], sse: float) -> Fit | None:
    if not math.isfinite(sse):
        return None
    total = sum(pt.weight for pt in points)
    return Fit(math.exp(x[0]), math.exp(x[1]), math.sqrt(sse / total), len(points))


def bootstrap(points: Sequence[Point], base: Fit, *, samples: int, seed: int) -> list[Fit]:
    """Refits on ``base``'s curve plus resampled residuals (a residual bootstrap)."""
    rng = random.Random(seed)  # noqa: S311  (resampling for an interval, not security)
    residuals = [pt.share - base.share(pt.t) for pt in points]
    fits = []
    for _ in range(samples):
        drawn = [
            Point(pt.t, min(1.0, max(0.0, base.share(pt.t) + rng.choice(residuals))), pt.weight)
            for pt in points
        ]
        if (refit := fit(drawn, near=base)) is not None:
            fits.append(refit)
    return fits


def quantile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (linear between order statistics)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
