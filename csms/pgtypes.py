"""PostgreSQL timestamps loaded by psycopg's C loader.

Django registers its own ``timestamptz`` loader, a Python subclass of psycopg's
Python one, to put the database's time zone on every value: each timestamp a
query returns is then parsed in Python (2-3% of the server's CPU under load,
from the batch preloads). When the session's time zone is UTC, which Django
sets whenever ``USE_TZ`` is on and the database has no ``TIME_ZONE`` of its
own, psycopg's C loader already returns datetimes in ``datetime.timezone.utc``:
the same values, five times faster.

The C loader class cannot be subclassed, and Django looks for a ``timezone``
attribute on the connection's loader, so a thin Python loader carries the
attribute and hands ``load`` to a C loader instance.
"""

from __future__ import annotations

import datetime

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format

_TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid
_CLoader = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class UtcTimestamptzLoader(Loader):
    timezone = datetime.UTC  # what Django compares with the connection's

    def __init__(self, oid: int, context=None) -> None:
        super().__init__(oid, context)
        # An instance attribute: psycopg's row loader calls it straight.
        self.load = _CLoader(oid, context).load

    def load(self, data):  # replaced per instance in __init__
        raise NotImplementedError


def use_c_timestamp_loader(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: swap the loader where the result is the same."""
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    raw = connection.connection
    if raw.info.parameter_status("TimeZone") != "UTC":
        return
    if raw.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT) is not UtcTimestamptzLoader:
        raw.adapters.register_loader(_TIMESTAMPTZ, UtcTimestamptzLoader)
