"""Plain bulk inserts for the hot path's append-only tables, and staging.

``bulk_create`` builds a model instance per row; for journal rows and status
history, which nobody reads back in the same transaction, a COPY on
PostgreSQL (executemany elsewhere) costs a fraction of that.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.db import connection, models


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> None:
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Elsewhere values go through the fields' own conversion, so that they
        # are stored exactly as the ORM would (SQLite keeps datetimes as text).
        prepared = [
            tuple(
                f.get_db_prep_value(value, connection, prepared=False)
                for f, value in zip(model_fields, row, strict=True)
            )
            for row in rows
        ]
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
            prepared,
        )


_staging = threading.local()


def stage_rows(model: type, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert append-only rows with the current group commit, in bulk.

    Inside the group-commit thread the rows wait for the end of the batch and
    go in with one COPY per table, still before the commit; anywhere else
    they are inserted at once.
    """
    staged = getattr(_staging, "rows", None)  # set by the group-commit thread
    if staged is None:
        insert_rows(model, fields, rows)
    else:
        staged.setdefault((model, fields), []).extend(rows)


def flush_staged() -> None:
    staged, _staging.rows = _staging.rows, {}
    for (model, fields), rows in staged.items():
        insert_rows(model, fields, rows)
