"""The Bass model and its least squares: pinned on synthetic curves with known coefficients."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout import bass

KNOWN_P, KNOWN_Q = 0.012, 0.09


def curve(p: float, q: float, days: int) -> list[bass.Point]:
    return [bass.Point(t, bass.share(p, q, t)) for t in range(1, days + 1)]


def test_the_fit_recovers_known_coefficients_from_an_exact_curve():
    # given: 60 days of F(t) with p = 0.012, q = 0.09
    points = curve(KNOWN_P, KNOWN_Q, 60)
    # when
    found = bass.fit(points)
    # then
    assert found is not None
    assert found.p == pytest.approx(KNOWN_P, rel=1e-4)
    assert found.q == pytest.approx(KNOWN_Q, rel=1e-4)
    assert found.rmse < 1e-6
    assert found.points == 60


def test_the_fit_recovers_known_coefficients_through_noise():
    # given: the same curve with Gaussian noise of 1 point of share (fixed seed)
    rng = random.Random(7)
    points = [
        bass.Point(pt.t, min(1.0, max(0.0, pt.share + rng.gauss(0, 0.01))))
        for pt in curve(KNOWN_P, KNOWN_Q, 90)
    ]
    # when
    found = bass.fit(points)
    # then: within 5%, and the residual is the noise's size
    assert found is not None
    assert found.p == pytest.approx(KNOWN_P, rel=0.05)
    assert found.q == pytest.approx(KNOWN_Q, rel=0.05)
    assert 0.005 < found.rmse < 0.015


@settings(max_examples=25, deadline=None)
@given(
    p=st.floats(min_value=0.002, max_value=0.05),
    q=st.floats(min_value=0.01, max_value=0.3),
)
def test_the_fitted_curve_reproduces_any_exact_bass_curve(p, q):
    # given: 120 days of an exact curve
    points = curve(p, q, 120)
    # when
    found = bass.fit(points)
    # then: the fitted curve goes through the data
    assert found is not None
    assert max(abs(found.share(pt.t) - pt.share) for pt in points) < 1e-3


@given(
    p=st.floats(min_value=1e-4, max_value=0.1),
    q=st.floats(min_value=1e-3, max_value=1.0),
    target=st.floats(min_value=0.0, max_value=0.999),
)
def test_days_to_is_the_inverse_of_the_curve(p, q, target):
    days = bass.days_to(p, q, target)
    assert days is not None
    assert bass.share(p, q, days) == pytest.approx(target, abs=1e-9)


def test_a_full_share_is_never_reached():
    assert bass.days_to(KNOWN_P, KNOWN_Q, 1.0) is None
    assert bass.days_to(KNOWN_P, KNOWN_Q, 1.5) is None


@pytest.mark.parametrize(
    "points",
    [
        [],
        [bass.Point(1, 0.1), bass.Point(2, 0.2)],  # two points: no fit for two unknowns
        [bass.Point(t, 0.5, weight=0) for t in range(1, 30)],  # nothing weighs
        [bass.Point(t, math.nan) for t in range(1, 30)],  # no share
        [bass.Point(0, 0.0) for _ in range(30)],  # every point on day 0
    ],
    ids=["empty", "two-points", "no-weight", "nan", "day-zero"],
)
def test_unusable_data_has_no_fit(points):
    assert bass.fit(points) is None


def test_the_bootstrap_is_reproducible_and_brackets_the_fit():
    # given: a noisy curve and its fit
    rng = random.Random(3)
    points = [
        bass.Point(pt.t, min(1.0, max(0.0, pt.share + rng.gauss(0, 0.02))))
        for pt in curve(KNOWN_P, KNOWN_Q, 60)
    ]
    base = bass.fit(points)
    assert base is not None
    # when
    first = bass.bootstrap(points, base, samples=20, seed=1)
    again = bass.bootstrap(points, base, samples=20, seed=1)
    # then
    assert first == again
    days = [f.days_to(0.9) for f in first]
    assert bass.quantile(days, 0.1) < base.days_to(0.9) < bass.quantile(days, 0.9)


def test_quantiles_interpolate_between_order_statistics():
    assert bass.quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert bass.quantile([5.0], 0.9) == 5.0
