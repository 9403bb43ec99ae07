"""The session a station's message is about, locked for the group commit.

A batch preloads the sessions of all its meter-value messages with one query
(``preload_transactions``, registered with the group-commit executor) and each
message takes its own from the batch's identity map. A station has at most one
message in a batch (the edge handles a station's frames one after the other),
so no two items of a batch share a session.
"""

from __future__ import annotations

from django.db import connection

from apps.transactions.models import Transaction
from csms.bulk import batch_cache, batch_cached, fetch_instances, key_chunks

KIND = "transaction"  # the hot fields (meter values, routine events)
KIND_WHOLE = "transaction-whole"  # every field (starts, stops, other events)


def locked_transaction(
    charge_point_id: str, transaction_id: str, *, whole: bool = False
) -> Transaction | None:
    """The session, locked until the commit; ``None`` if there is none.

    ``whole``: a look-up that uses every field; a batch preloads those whole
    (``preload_whole_transactions``), others with ``HOT_FIELDS`` only. Read
    here, outside a preload, the row is always loaded whole.
    """
    return batch_cached(
        (KIND_WHOLE if whole else KIND, charge_point_id, transaction_id),
        lambda: (
            Transaction.objects.select_for_update()
            .filter(charge_point_id=charge_point_id, transaction_id=transaction_id)
            .first()
        ),
    )


def remember_transaction(
    tx: Transaction, charge_point_id: str, transaction_id: str
) -> None:
    """A session just created, loaded whole: later look-ups in the batch find it."""
    cache = batch_cache()
    if cache is not None:
        cache[(KIND, charge_point_id, transaction_id)] = tx
        cache[(KIND_WHOLE, charge_point_id, transaction_id)] = tx


def forget_transaction(charge_point_id: str, transaction_id: str) -> None:
    """After ORM code may have changed the row: the next look-up reads it again."""
    cache = batch_cache()
    if cache is not None:
        cache.pop((KIND, charge_point_id, transaction_id), None)
        cache.pop((KIND_WHOLE, charge_point_id, transaction_id), None)


# What a meter-value message reads and writes of its session; the rest of the
# row stays deferred (an event that needs more reloads the row).
HOT_FIELDS = (
    "id",
    "charge_point_id",
    "transaction_id",
    "organization_id",
    "status",
    "started_at",
    "evse_id",
    "connector_id",
    "remote_start_id",
    "reservation_id",
    "time_spent_charging",
    "offline",
    "last_seq_no",
    "charging_state",
    "charging_state_at",
    "meter_start",
    "last_meter_wh",
    "last_meter_at",
    "last_power_w",
    "updated_at",
)


def preload_transactions(keys: list[tuple[str, str]]) -> None:
    """Load (and lock) the sessions ``keys`` name into the batch, in few queries.

    Exactly those rows: locking a row another process's stations own could
    make two batches wait for each other.
    """
    _preload(keys, KIND, HOT_FIELDS)


def preload_whole_transactions(keys: list[tuple[str, str]]) -> None:
    """``preload_transactions`` with every field, for ``whole`` look-ups."""
    _preload(keys, KIND_WHOLE, None)


# The whole row as a service writes it back (``stage_update``).
SAVED_FIELDS = tuple(
    f.attname
    for f in Transaction._meta.concrete_fields
    if not f.primary_key and not getattr(f, "auto_now_add", False)
)


def _preload(
    keys: list[tuple[str, str]], kind: str, fields: tuple[str, ...] | None
) -> None:
    wanted = sorted(set(keys))
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = {}
    for condition, params in key_chunks(
        (quote("charge_point_id"), quote("transaction_id")),
        ("varchar", "varchar"),
        wanted,
    ):
        table = quote(Transaction._meta.db_table)
        for tx in fetch_instances(
            Transaction, fields, f"{table} WHERE {condition}{lock}", params
        ):
            found[(tx.charge_point_id, tx.transaction_id)] = tx
    cache = batch_cache()
    for station, tx_id in wanted:
        cache[(kind, station, tx_id)] = found.get((station, tx_id))
