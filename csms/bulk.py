"""Bulk writes for the hot path, and the group commit's staging area.

``bulk_create`` builds a model instance per row; for append-only rows that
nobody reads back in the same transaction, a COPY on PostgreSQL (executemany
elsewhere) costs a fraction of that.

Inside a group-commit batch, handlers may *stage* writes instead of issuing
them: rows to insert, and field updates of rows they hold locked. The batch
writes everything staged with a few statements just before its commit (or
earlier, whenever a handler that reads through the ORM is about to run), so
every statement is paid once per batch instead of once per message. Outside a
batch the same calls write at once.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg
from django.db import connection, models
from django.utils import timezone


def _prepared(model_fields, row) -> tuple:
    # Values through the fields' own conversion, stored exactly as the ORM would
    # (SQLite keeps datetimes as text, JSON is adapted, and so on).
    return tuple(
        f.get_db_prep_value(value, connection, prepared=False)
        for f, value in zip(model_fields, row, strict=True)
    )


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert ``rows`` (tuples in ``fields`` order) with as few statements as can be.

    ``ignore_conflicts`` skips rows a unique constraint already holds (a
    repeated message); without it, a COPY on PostgreSQL.
    """
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if ignore_conflicts:
                arrays, params = _unnest(model_fields, rows)
                _execute_bound(
                    f"INSERT INTO {table} ({columns}) "  # noqa: S608
                    f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",
                    params,
                )
                return
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_copy_values(model_fields, row))
            return
        prepared = [_prepared(model_fields, row) for row in rows]
        if not ignore_conflicts:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                prepared,
            )
            return
        # One multi-row statement per chunk, below SQLite's parameter limit.
        size = max(1, 999 // len(fields))
        row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(prepared), size):
            chunk = prepared[start : start + size]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                + ", ".join([row_marks] * len(chunk))
                + " ON CONFLICT DO NOTHING",
                [value for row in chunk for value in row],
            )


def _copy_values(model_fields, row) -> tuple:
    # COPY adapts Python values itself; JSON goes in as its text.
    if not any(isinstance(f, models.JSONField) for f in model_fields):
        return row
    return tuple(
        _json_text(value) if isinstance(f, models.JSONField) else value
        for f, value in zip(model_fields, row, strict=True)
    )


def _json_text(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _execute_bound(sql: str, params: list) -> None:
    """Execute with server-side binding (PostgreSQL).

    Django's psycopg cursors bind client-side: every value of every array is
    quoted into the SQL text in Python. Sent as parameters instead, a bulk
    statement costs a quarter less CPU, and psycopg prepares it once it
    repeats.
    """
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
    if connection.queries_logged:  # DEBUG, or a test counting queries
        took = time.monotonic() - started
        connection.queries_log.append({"sql": sql, "time": f"{took:.3f}"})


KEY_CHUNK = 400  # SQLite: pairs per statement, below its parameter limit


def key_chunks(
    columns: tuple[str, str], types: tuple[str, str], keys: list[tuple]
) -> list[tuple[str, list]]:
    """``(a, b) IN (...)`` conditions for these key pairs, with their params.

    PostgreSQL: one condition over two arrays, the same SQL text whatever the
    number of keys (psycopg parses a query text once). Elsewhere: chunks of
    ``(VALUES (%s, %s), ...)``.
    """
    first, second = columns
    if connection.vendor == "postgresql":
        condition = (
            f"({first}, {second}) IN (SELECT * FROM "  # noqa: S608
            f"unnest(%s::{types[0]}[], %s::{types[1]}[]))"
        )
        return [(condition, [[k[0] for k in keys], [k[1] for k in keys]])]
    chunks = []
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        condition = (
            f"({first}, {second}) IN (VALUES {', '.join(['(%s, %s)'] * len(chunk))})"
        )
        chunks.append((condition, [value for key in chunk for value in key]))
    return chunks


def _unnest(model_fields, rows) -> tuple[str, list[list]]:
    """``unnest`` arguments for rows: one typed array per column (PostgreSQL).

    A constant statement whatever the number of rows, and no per-value work
    in Python: psycopg renders each array at C speed.
    """
    arrays, params = [], []
    for f, column in zip(model_fields, zip(*rows, strict=True), strict=True):
        if isinstance(f, models.JSONField):
            column = [_json_text(value) for value in column]
        arrays.append(f"%s::{f.db_type(connection)}[]")
        params.append(list(column))
    return ", ".join(arrays), params


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> None:
    """``UPDATE ... SET fields WHERE pk`` for rows of (values..., pk), in one go."""
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    pk = meta.pk
    if connection.vendor == "postgresql":
        arrays, params = _unnest([*model_fields, pk], rows)
        names = [f"c{i}" for i in range(len(model_fields))]
        assignments = ", ".join(
            f"{quote(f.column)} = v.{name}"
            for f, name in zip(model_fields, names, strict=True)
        )
        _execute_bound(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
            f"FROM unnest({arrays}) AS v({', '.join(names)}, pk) "
            f"WHERE t.{quote(pk.column)} = v.pk",
            params,
        )
        return
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in model_fields)
    prepared = [
        (*_prepared(model_fields, row[:-1]), pk.get_db_prep_value(row[-1], connection))
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
            f"WHERE {quote(pk.column)} = %s",
            prepared,
        )


class Staging:
    """What one group-commit batch has staged, and its identity map."""

    __slots__ = ("inserts", "updates", "cache")

    def __init__(self) -> None:
        self.inserts: dict[tuple, list[tuple]] = {}
        self.updates: dict[tuple[type, Any], tuple[models.Model, set[str]]] = {}
        # Rows a batch has loaded (and locked) for its items, by a key of the
        # loader's choosing: the next message about the same row skips the read.
        self.cache: dict = {}

    def flush(self) -> None:
        inserts, self.inserts = self.inserts, {}
        for (model, fields, ignore), rows in inserts.items():
            insert_rows(model, fields, rows, ignore_conflicts=ignore)
        updates, self.updates = self.updates, {}
        grouped: dict[tuple, list[tuple]] = {}
        for obj, names in updates.values():
            fields = tuple(sorted(names))
            row = (*(getattr(obj, name) for name in fields), obj.pk)
            grouped.setdefault((type(obj), fields), []).append(row)
        for (model, fields), rows in grouped.items():
            update_rows(model, fields, rows)


_local = threading.local()


def current_staging() -> Staging | None:
    """The batch this thread is running, if any."""
    return getattr(_local, "staging", None)


def begin_staging() -> Staging:
    _local.staging = Staging()
    return _local.staging


def end_staging() -> None:
    _local.staging = None


def stage_rows(
    model: type[models.Model],
    fields: tuple[str, ...],
    rows: list[tuple],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert rows with the current group commit, in bulk (at once outside one)."""
    staging = current_staging()
    if staging is None:
        insert_rows(model, fields, rows, ignore_conflicts=ignore_conflicts)
    else:
        staging.inserts.setdefault((model, fields, ignore_conflicts), []).extend(rows)


def stage_update(obj: models.Model, fields: Sequence[str]) -> None:
    """Write ``obj``'s ``fields`` with the current group commit (at once outside one).

    The values written are the object's at flush time, so later changes to the
    same object in the batch are folded into one statement. An ``auto_now``
    field of the model is stamped too.
    """
    names = set(fields)
    for name in _auto_now_fields(type(obj)):
        setattr(obj, name, timezone.now())
        names.add(name)
    staging = current_staging()
    if staging is None:
        type(obj).objects.filter(pk=obj.pk).update(
            **{name: getattr(obj, name) for name in names}
        )
        return
    key = (type(obj), obj.pk)
    staged = staging.updates.get(key)
    if staged is not None and staged[0] is not obj:
        staging.flush()  # another copy of the row: write the first one's changes
        staged = None
    if staged is None:
        staging.updates[key] = (obj, names)
    else:
        staged[1].update(names)


def unstage(obj: models.Model) -> None:
    """Drop ``obj``'s staged update: the caller is about to save it whole."""
    staging = current_staging()
    if staging is not None:
        staging.updates.pop((type(obj), obj.pk), None)


@functools.cache
def _auto_now_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(
        f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)
    )


def flush_staged() -> None:
    """Write what the current batch staged, now (before a read that needs it)."""
    staging = current_staging()
    if staging is not None:
        staging.flush()


def batch_cache() -> dict | None:
    staging = current_staging()
    return None if staging is None else staging.cache


def batch_cached(key, load: Callable[[], Any]) -> Any:
    """``load()`` once per group-commit batch for ``key``; every time outside one."""
    cache = batch_cache()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]
