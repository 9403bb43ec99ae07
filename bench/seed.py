#!/usr/bin/env python3
"""Seed the benchmark's stations, id tags and API key; count what the DB holds.

Runner-side helper (the load generator itself imports nothing from the CSMS):

    DJANGO_SETTINGS_MODULE=csms.settings DATABASE_URL=... python bench/seed.py seed \
        --stations 10000 --password ...      # prints {"api_key": ..., ...}
    python bench/seed.py counts --prefix BENCH   # prints the integrity counts

Stations: organization ``bench``, security profile 1 (HTTP Basic), registration
Accepted, one salted-SHA-256 password hash each (``hash_secret``), inserted with
``bulk_create`` in batches. Id tags ``BTAG00000``... Accepted. Idempotent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# CSMS_PROJECT: another checkout to seed (bench/run.py --project).
ROOT = Path(os.environ.get("CSMS_PROJECT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")


def _setup():
    import django

    django.setup()


def seed(args) -> dict:
    _setup()
    from django.db import transaction

    from apps.chargepoints.models import ChargePoint
    from apps.organizations.models import ApiKey, Organization
    from apps.organizations.secrets import hash_secret
    from apps.organizations.services import api_key_create

    t0 = time.perf_counter()
    org, _ = Organization.objects.get_or_create(
        slug=args.organization, defaults={"name": "Benchmark fleet"}
    )
    ids = [f"{args.prefix}{i:0{args.digits}d}" for i in range(1, args.stations + 1)]
    existing = set(ChargePoint.objects.filter(id__in=ids).values_list("id", flat=True))
    rows = [
        ChargePoint(
            id=sid,
            organization=org,
            security_profile=1,
            registration_status="Accepted",
            password_hash=hash_secret(args.password),
            description="bench",
        )
        for sid in ids
        if sid not in existing
    ]
    with transaction.atomic():
        ChargePoint.objects.bulk_create(rows, batch_size=2000)
    tags_created = 0
    try:
        from apps.transactions.models import IdTag
    except ImportError:
        IdTag = None
    if IdTag is not None:
        tags = [f"{args.tag_prefix}{i:05d}" for i in range(args.tags)]
        have = set(
            IdTag.objects.filter(organization=org, id_tag__in=tags).values_list(
                "id_tag", flat=True
            )
        )
        new = [
            IdTag(organization=org, id_tag=t, status="Accepted")
            for t in tags
            if t not in have
        ]
        IdTag.objects.bulk_create(new, batch_size=2000)
        tags_created = len(new)
    ApiKey.objects.filter(organization=org, name="bench").delete()
    _key, raw = api_key_create(organization=org, name="bench", role="operator")
    return {
        "organization": org.slug,
        "stations_created": len(rows),
        "stations_total": len(ids),
        "id_tags_created": tags_created,
        "api_key": raw,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def counts(args) -> dict:
    """What the database holds for the bench stations (for the integrity check)."""
    _setup()
    from django.db import connection

    like = args.prefix.replace("%", r"\%").replace("_", r"\_") + "%"
    queries = {
        "transactions": "SELECT count(*) FROM transactions_transaction "
        "WHERE charge_point_id LIKE %s",
        "transactions_completed": "SELECT count(*) FROM transactions_transaction "
        "WHERE charge_point_id LIKE %s AND status = 'completed'",
        "energy_wh": "SELECT coalesce(sum(energy_wh), 0) FROM transactions_transaction "
        "WHERE charge_point_id LIKE %s AND status = 'completed'",
        "transaction_events": "SELECT count(*) FROM transactions_transactionevent e "
        "JOIN transactions_transaction t ON t.id = e.transaction_id "
        "WHERE t.charge_point_id LIKE %s",
        "meter_values": "SELECT count(*) FROM transactions_metervalue "
        "WHERE charge_point_id LIKE %s",
        "status_changes": "SELECT count(*) FROM chargepoints_statuschange "
        "WHERE charge_point_id LIKE %s",
        "journal": "SELECT count(*) FROM ocpp_messagelog WHERE charge_point_id LIKE %s",
        "stations_online": "SELECT count(*) FROM chargepoints_chargepoint "
        "WHERE id LIKE %s AND is_online",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            try:
                cursor.execute(sql, [like])
                value = cursor.fetchone()[0]
                out[name] = float(value) if name == "energy_wh" else int(value)
            except Exception as exc:  # table not there (yet)
                out[name] = None
                out.setdefault("missing", []).append(f"{name}: {type(exc).__name__}")
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--stations", type=int, required=True)
    s.add_argument("--prefix", default="BENCH")
    s.add_argument("--digits", type=int, default=5)
    s.add_argument("--password", default="bench-station-password-0123456789")
    s.add_argument("--organization", default="bench")
    s.add_argument("--tags", type=int, default=1000)
    s.add_argument("--tag-prefix", default="BTAG")
    c = sub.add_parser("counts")
    c.add_argument("--prefix", default="BENCH")
    args = p.parse_args()
    result = seed(args) if args.cmd == "seed" else counts(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
