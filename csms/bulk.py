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
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from django.db import connection, models, transaction
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
                _through_scratch(
                    meta.db_table,
                    model_fields,
                    rows,
                    f"INSERT INTO {table} ({columns}) SELECT * FROM s "  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                )
                return
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                _copy_rows(copy, model_fields, rows)
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


def _copy_rows(copy, model_fields, rows) -> None:
    """Write ``rows`` to a COPY, which adapts values itself; JSON goes as text."""
    json_columns = [
        i for i, f in enumerate(model_fields) if isinstance(f, models.JSONField)
    ]
    for row in rows:
        if json_columns:
            row = list(row)
            for i in json_columns:
                row[i] = _json_text(row[i])
        copy.write_row(row)


def _json_text(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


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


def _through_scratch(table: str, model_fields, rows, statement: str) -> None:
    """COPY ``rows`` into this connection's scratch table for ``table``, then run
    ``statement``, which reads them as ``s`` (PostgreSQL).

    COPY converts values at C speed, where binding them as arrays converted
    every value in Python (a tenth of the server's CPU in the benchmark). The
    scratch table is a temporary table without constraints; the statement
    takes the rows out as it reads them (``DELETE ... RETURNING``), in the
    COPY's transaction, so a rollback takes both back. Temporary tables are
    never vacuumed: the deleted rows' space comes back with a TRUNCATE every
    ``SCRATCH_RECYCLE_ROWS`` rows (``ON COMMIT DELETE ROWS`` did it at every
    commit, and truncating the scratch tables cost PostgreSQL ~1.5 ms of CPU
    per batch).
    """
    scratch = _scratch_name(table)
    _scratch_wanted.add(table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        made = _scratch_tables.setdefault(connection.connection, set())
        fresh = table not in made
        if fresh:
            _create_scratch(table)
        with cursor.cursor.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
            _copy_rows(copy, model_fields, rows)
        cursor.execute(
            f"WITH s AS (DELETE FROM {scratch} RETURNING {columns}) {statement}"  # noqa: S608
        )
        if _rows_since_truncate(connection.connection, table, len(rows)):
            cursor.execute(f"TRUNCATE {scratch}")
    if fresh and own_transaction:  # committed: the connection keeps it
        made.add(table)


# Rows a scratch table takes between two TRUNCATEs: a few MB, within
# PostgreSQL's default temp_buffers (8 MB), so it never spills to disk.
SCRATCH_RECYCLE_ROWS = 20_000
_scratch_rows: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rows_since_truncate(pg_connection, table: str, added: int) -> bool:
    """Count ``added`` rows; True (and start again) when it is time to truncate."""
    counts = _scratch_rows.setdefault(pg_connection, {})
    total = counts.get(table, 0) + added
    if total >= SCRATCH_RECYCLE_ROWS:
        counts[table] = 0
        return True
    counts[table] = total
    return False


def _scratch_name(table: str) -> str:
    return connection.ops.quote_name(f"csms_scratch_{table}")


def _create_scratch(table: str) -> None:
    # Straight to psycopg: set-up, not the work, so Django's query log (and
    # the tests counting statements) leaves it out.
    connection.connection.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_scratch_name(table)} "  # noqa: S608
        f"AS SELECT * FROM "
        f"{connection.ops.quote_name(table)} WITH NO DATA"
    )


# Per PostgreSQL connection (pooled connections outlive Django's wrapper): the
# scratch tables it has for sure. One made inside a transaction is not counted
# (a rollback takes it away again): until a worker makes it outside one
# (``prepare_scratch_tables``), each use makes it IF NOT EXISTS.
_scratch_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_scratch_wanted: set[str] = set()  # the tables this process has needed one for


def prepare_scratch_tables() -> None:
    """Make the connection's scratch tables now, outside a transaction.

    The group-commit workers call it before each batch, so their batches
    never spend a statement on them.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    connection.ensure_connection()
    made = _scratch_tables.setdefault(connection.connection, set())
    for table in _scratch_wanted - made:
        _create_scratch(table)
        made.add(table)


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
        assignments = ", ".join(
            f"{quote(f.column)} = s.{quote(f.column)}" for f in model_fields
        )
        key = quote(pk.column)
        # The scratch table has no statistics: PostgreSQL guesses ~60 rows
        # and joins them by hash against a scan of the whole table. The ANY
        # over the keys makes it fetch the rows through the primary key.
        _through_scratch(
            meta.db_table,
            [*model_fields, pk],
            rows,
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM s "  # noqa: S608
            f"WHERE t.{key} = s.{key} AND t.{key} = ANY(ARRAY(SELECT {key} FROM s))",
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
