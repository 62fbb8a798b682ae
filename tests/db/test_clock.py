"""The one "now": timezone-aware UTC, which every timestamp column accepts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.dialects import sqlite

from db.base import UtcDateTime
from db.clock import utc_now


def test_now_is_aware_utc_and_the_current_time():
    # given
    before = dt.datetime.now(dt.UTC)
    # when
    now = utc_now()
    # then
    after = dt.datetime.now(dt.UTC)
    assert now.tzinfo is dt.UTC
    assert before <= now <= after


def test_a_utc_column_takes_now_and_refuses_a_naive_time():
    # given
    column = UtcDateTime()
    now = utc_now()
    # when
    bound = column.process_bind_param(now, sqlite.dialect())
    # then
    assert bound == now
    with pytest.raises(ValueError, match="naive datetime given to a UTC column"):
        column.process_bind_param(now.replace(tzinfo=None), sqlite.dialect())
