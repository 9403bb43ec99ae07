from datetime import UTC, datetime, timedelta
from decimal import Decimal
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from apps.transactions.services.start import transaction_start
from apps.transactions.services.stop import transaction_stop_reported
from apps.transactions.services.events import transaction_event_record, TransactionEventInput
from apps.transactions.services.meter_values import SampledValueInput
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory
from csms.bulk import begin_staging, end_staging

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

def show(name, ctx):
    print(f"\n=== {name}: {len(ctx.captured_queries)} queries")
    for q in ctx.captured_queries:
        print("  ", q["sql"][:230])

def test_probe():
    st = ChargePointFactory(id="P16")
    IdTagFactory(organization=st.organization, id_tag="TAG1")
    st2 = ChargePointFactory(id="P201", ocpp_version="2.0.1", organization=st.organization)
    staging = begin_staging()
    from django.db import transaction
    with transaction.atomic(), CaptureQueriesContext(connection) as c:
        r = transaction_start(charge_point_id="P16", connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=T0, reservation_id=None)
        staging.flush()
    show("1.6 start", c)
    with transaction.atomic(), CaptureQueriesContext(connection) as c:
        transaction_stop_reported(charge_point_id="P16", transaction_id=str(r.transaction_id), stopped_at=T0+timedelta(minutes=5), meter_stop=Decimal(5000), reason="Local", id_tag="TAG1",
            samples=[SampledValueInput(timestamp=T0+timedelta(minutes=5), raw_value="5000", measurand="Energy.Active.Import.Register", context="Transaction.End", unit="Wh")])
        staging.flush()
    show("1.6 stop", c)
    ev = lambda et, seq, m, **kw: TransactionEventInput(event_type=et, timestamp=T0+timedelta(minutes=m), trigger_reason=kw.pop("trigger_reason","MeterValuePeriodic"), seq_no=seq, transaction_id="tx1", **kw)
    e = lambda m, v, ctx: SampledValueInput(timestamp=T0+timedelta(minutes=m), raw_value=v, measurand="Energy.Active.Import.Register", context=ctx, unit="Wh")
    for name, event in [("201 started", ev("Started", 0, 0, trigger_reason="Authorized", id_token="TAG1", id_token_type="ISO14443", evse_id=1, connector_id=1, samples=(e(0,"1000","Transaction.Begin"),))),
                        ("201 updated", ev("Updated", 1, 1, samples=(e(1,"2000","Sample.Periodic"),))),
                        ("201 ended", ev("Ended", 2, 2, trigger_reason="StopAuthorized", stopped_reason="Local", samples=(e(2,"3000","Transaction.End"),)))]:
        with transaction.atomic(), CaptureQueriesContext(connection) as c:
            transaction_event_record(charge_point_id="P201", event=event)
            staging.flush()
        show(name, c)
    end_staging()
