"""Bulk writes for the hot path, and the group commit's staging area.

``bulk_create`` builds a model instance per row; for append-only rows that
nobody reads back in the same transaction, one statement that takes the rows
as a single JSON document on PostgreSQL (executemany elsewhere) costs a
fraction of that.

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
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, models
from django.utils import timezone


def _prepared(model_fields, row) -> tuple:
    # Values through the fields' own conversion, stored exactly as the ORM saves
    # them (SQLite keeps datetimes as text, None in a JSON field is SQL NULL).
    return tuple(
        f.get_db_prep_save(value, connection)
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
    repeated message). PostgreSQL: one statement, whatever the number of rows.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        _execute([_insert_statement(model, fields, rows, ignore_conflicts)])
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    prepared = [_prepared(model_fields, row) for row in rows]
    with connection.cursor() as cursor:
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


Statement = tuple[str, list]


def _execute(statements: list[Statement]) -> None:
    """Run the statements in one round trip (PostgreSQL).

    Django binds on the client, so psycopg sends them as one simple query:
    PostgreSQL runs them in order and the first error fails the call.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _ in statements),
            [param for _, params in statements for param in params],
        )


def _insert_statement(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple], ignore
) -> Statement:
    return _insert_sql(model, tuple(fields), ignore), [_json_document(rows)]


@functools.cache
def _insert_sql(model: type[models.Model], fields: tuple[str, ...], ignore) -> str:
    model_fields = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT * FROM ({_json_select(tuple(model_fields))}) AS s{conflict}"
    )


def _json_document(rows: Sequence[tuple]) -> str:
    """The rows as one JSON document, for a statement of ``_json_select`` (PostgreSQL).

    One statement and one round trip, where a COPY into a scratch table and a
    statement reading it took three: each round trip of a group-commit worker
    is a wait for PostgreSQL and then for the GIL. orjson encodes the rows in
    C; PostgreSQL converts each value with the column type's input function,
    as COPY does (too long a text fails the statement, a number is rounded to
    the column's scale).
    """
    return orjson.dumps(rows, default=_json_default).decode()


@functools.cache
def _json_select(model_fields: tuple) -> str:
    quote = connection.ops.quote_name
    values = []
    for i, field in enumerate(model_fields):
        if isinstance(field, models.JSONField):
            # A Python None is SQL NULL, as the ORM stores it.
            value = f"NULLIF(e -> {i}, 'null'::jsonb)"
        else:
            value = f"(e ->> {i})::{_base_type(field)}"
        values.append(f"{value} AS {quote(field.column)}")
    return (
        f"SELECT {', '.join(values)} "  # noqa: S608
        "FROM jsonb_array_elements(%s::jsonb) AS e"
    )


def _base_type(field: models.Field) -> str:
    """The column's type without its length or precision: the insert or
    update checks and rounds against the column itself."""
    return field.db_type(connection).split("(", 1)[0]


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


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


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> None:
    """``UPDATE ... SET fields WHERE pk`` for rows of (values..., pk), in one go."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _execute([_update_statement(model, fields, rows)])
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    pk = meta.pk
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


def _update_statement(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> Statement:
    return _update_sql(model, tuple(fields)), [_json_document(rows)]


@functools.cache
def _update_sql(model: type[models.Model], fields: tuple[str, ...]) -> str:
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    pk = meta.pk
    assignments = ", ".join(
        f"{quote(f.column)} = s.{quote(f.column)}" for f in model_fields
    )
    key = quote(pk.column)
    # PostgreSQL cannot see how many rows the document holds: it guesses a
    # hundred and may join them by hash against a scan of the whole table.
    # The ANY over the keys makes it fetch the rows by primary key.
    return (
        f"WITH s AS MATERIALIZED ({_json_select((*model_fields, pk))}) "  # noqa: S608
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM s "
        f"WHERE t.{key} = s.{key} AND t.{key} = ANY(ARRAY(SELECT {key} FROM s))"
    )


class Staging:
    """What one group-commit batch has staged, and its identity map."""

    __slots__ = ("inserts", "updates", "cache", "_on_discard")

    def __init__(self) -> None:
        self.inserts: dict[tuple, list[tuple]] = {}
        self.updates: dict[tuple[type, Any], tuple[models.Model, set[str]]] = {}
        # Rows a batch has loaded (and locked) for its items, by a key of the
        # loader's choosing: the next message about the same row skips the read.
        self.cache: dict = {}
        self._on_discard: list[Callable[[], None]] = []

    def flush(self) -> None:
        """Write everything staged; on PostgreSQL in one round trip."""
        inserts, self.inserts = self.inserts, {}
        updates, self.updates = self.updates, {}
        grouped: dict[tuple, list[tuple]] = {}
        for obj, names in updates.values():
            fields = tuple(sorted(names))
            row = (*(getattr(obj, name) for name in fields), obj.pk)
            grouped.setdefault((type(obj), fields), []).append(row)
        if connection.vendor == "postgresql":
            statements = [
                _insert_statement(model, fields, rows, ignore)
                for (model, fields, ignore), rows in inserts.items()
            ]
            statements += [
                _update_statement(model, fields, rows)
                for (model, fields), rows in grouped.items()
            ]
            if statements:
                _execute(statements)
            return
        for (model, fields, ignore), rows in inserts.items():
            insert_rows(model, fields, rows, ignore_conflicts=ignore)
        for (model, fields), rows in grouped.items():
            update_rows(model, fields, rows)

    def on_discard(self, callback: Callable[[], None]) -> None:
        """``callback()`` if the batch is given up (then run item by item)."""
        self._on_discard.append(callback)

    def discard(self) -> None:
        callbacks, self._on_discard = self._on_discard, []
        for callback in callbacks:
            callback()


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


def fetch_instances(
    model: type[models.Model],
    fields: Sequence[str] | None,
    sql_from: str,
    params: list,
) -> list[models.Model]:
    """``SELECT fields FROM <sql_from>`` as instances of ``model``, the others
    deferred (``fields`` None: every field).

    What ``Model.objects.raw`` gives, without its per-query set-up: it maps
    the cursor's columns to fields and builds converters on every call, which
    was a fifth of the server's CPU when batches were small. ``sql_from``
    follows ``FROM`` (table, conditions, locks); values are converted as the
    ORM converts them (SQLite's datetimes, JSON).
    """
    wanted = None if fields is None else tuple(fields)
    names, columns, converters = _selection(model, wanted, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {sql_from}", params)  # noqa: S608
        rows = cursor.fetchall()
    alias = connection.alias
    instances = []
    for row in rows:
        if converters:
            row = list(row)
            for index, convert, column in converters:
                row[index] = convert(row[index], column, connection)
        instances.append(model.from_db(alias, names, row))
    return instances


@functools.cache
def _selection(model: type[models.Model], fields: tuple[str, ...] | None, vendor: str):
    """The fields in the model's order (``from_db`` fills the deferred ones by
    position), their column list, and the ORM's converters by position (they
    differ by database ``vendor``)."""
    chosen = list(model._meta.concrete_fields)
    if fields is not None:
        wanted = {model._meta.get_field(name).attname for name in fields}
        chosen = [f for f in chosen if f.attname in wanted]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(f"{table}.{quote(f.column)}" for f in chosen)
    converters = []
    for index, field in enumerate(chosen):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        )
        converters += [(index, convert, column) for convert in found]
    return [f.attname for f in chosen], columns, converters
