"""Backtest of the wave forecast on the demo: fit on Yen Mo's first weeks, score its later weeks.

Run: ``.venv/bin/python bench/forecast_backtest.py [--today 2026-11-25]``

Loads the demo province and its simulated events into a throw-away SQLite file, reads Yen Mo's
daily activation curve through adoption's KPI source (as the gateway does), then for 2, 4, 6 and 8
fitted weeks prints the fitted coefficients, the mean and largest error over the next 12 weekly
points (in share activated), and the day the curve reached 90% against the day the fit said.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from adoption.demo_events import simulate
from adoption.kpi_source import AdoptionKpis
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from gateway.migrate import upgrade
from rollout.backtest import backtest
from tenants.demo.load import load_demo

TARGET = 0.9
SCORED_WEEKS = 12


async def _curve(url: str, today: dt.date) -> list:  # type: ignore[type-arg]
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await load_demo(sessionmaker=sessions, today=today)
    await simulate(sessionmaker=sessions, today=today)
    async with scope_session(sessions(), "yen-mo") as session:
        curves = await AdoptionKpis().activation_days(
            session=session, tenant_ids=["yen-mo"], first=today - dt.timedelta(days=400), last=today
        )
    await engine.dispose()
    return curves["yen-mo"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 25))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'backtest.db'}"
        curve = asyncio.run(_curve(url, args.today))
    print("weeks  p        q        mean_err  max_err  reached_90%  forecast_90%")
    for weeks in (2, 4, 6, 8):
        result = backtest(curve, weeks_fitted=weeks, weeks_scored=SCORED_WEEKS, target=TARGET)
        nan = float("nan")
        p, q = (result.fit.p, result.fit.q) if result.fit else (nan, nan)
        print(
            f"{weeks:>5}  {p:.5f}  {q:.5f}"
            f"  {result.mean_error or nan:.3f}     {result.max_error or nan:.3f}"
            f"    {result.reached}   {result.forecast_reached}"
        )


if __name__ == "__main__":
    main()
