from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.transactions.models import MeterValue, Transaction
from apps.transactions.services.meter_values import (
    SampledValueInput,
    meter_values_record,
    meter_values_report,
    normalize,
)
from tests.factories import ChargePointFactory
from tests.transactions.factories import TransactionFactory

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def sample(raw: str, **fields) -> SampledValueInput:
    return SampledValueInput(
        timestamp=fields.pop("timestamp", T0), raw_value=raw, **fields
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (sample("12.345", unit="kWh"), (Decimal("12345"), "Wh")),
        (
            sample("7.4", unit="kW", measurand="Power.Active.Import"),
            (Decimal(7400), "W"),
        ),
        (sample("1.5", unit="kvarh"), (Decimal(1500), "varh")),
        (sample("2", unit="kvar"), (Decimal(2000), "var")),
        (sample("11", unit="kVA"), (Decimal(11000), "VA")),
        (sample("1500"), (Decimal(1500), "Wh")),  # 1.6 defaults: register in Wh
        (sample("230.1", measurand="Voltage"), (Decimal("230.1"), "V")),
        (sample("16", measurand="Current.Import"), (Decimal(16), "A")),
        (sample("80", measurand="SoC"), (Decimal(80), "Percent")),
        (
            sample("25", unit="Celcius", measurand="Temperature"),
            (Decimal(25), "Celsius"),
        ),
        # 2.0.1 unitOfMeasure.multiplier: 12.5 x 10^3
        (sample("12.5", unit="Wh", multiplier=3), (Decimal(12500), "Wh")),
        (sample("0.0125", unit="kWh", multiplier=3), (Decimal(12500), "Wh")),
        (sample("A0B1C2", format="SignedData"), (None, "Wh")),
        (sample("not a number"), (None, "Wh")),
    ],
)
def test_values_are_normalized_to_base_units(given, expected):
    assert normalize(given) == expected


@pytest.mark.django_db
def test_values_are_written_in_one_insert_and_defaults_applied(
    django_assert_num_queries,
):
    # given
    tx = TransactionFactory()
    samples = [
        sample("2.5", unit="kWh", context="Sample.Clock"),
        sample("7.2", unit="kW", measurand="Power.Active.Import"),
        sample("230", measurand="Voltage", phase="L1-N"),
        sample("231", measurand="Voltage", phase="L2-N"),
        sample("16", measurand="Current.Import", phase="L1", location="Inlet"),
    ]

    # when: one INSERT, one UPDATE of the latest reading
    with django_assert_num_queries(2):
        meter_values_record(
            charge_point_id=tx.charge_point_id,
            transaction=tx,
            samples=samples,
            evse_id=1,
            connector_id=1,
        )

    # then
    rows = list(
        MeterValue.objects.order_by("id").values_list(
            "measurand", "phase", "location", "context", "value", "unit"
        )
    )
    assert rows == [
        (
            "Energy.Active.Import.Register",
            "",
            "Outlet",
            "Sample.Clock",
            Decimal(2500),
            "Wh",
        ),
        ("Power.Active.Import", "", "Outlet", "Sample.Periodic", Decimal(7200), "W"),
        ("Voltage", "L1-N", "Outlet", "Sample.Periodic", Decimal(230), "V"),
        ("Voltage", "L2-N", "Outlet", "Sample.Periodic", Decimal(231), "V"),
        ("Current.Import", "L1", "Inlet", "Sample.Periodic", Decimal(16), "A"),
    ]
    tx.refresh_from_db()
    assert (tx.last_meter_wh, tx.last_meter_at, tx.last_power_w) == (
        Decimal(2500),
        T0,
        Decimal(7200),
    )


@pytest.mark.django_db
def test_signed_values_keep_their_signature():
    tx = TransactionFactory()
    signature = {
        "signedMeterData": "AAEC",
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "BBCC",
    }

    meter_values_record(
        charge_point_id=tx.charge_point_id,
        transaction=tx,
        samples=[sample("0.0", context="Transaction.Begin", signed_data=signature)],
    )

    row = MeterValue.objects.get()
    assert (row.value, row.signed_data, row.raw_value) == (Decimal(0), signature, "0.0")


@pytest.mark.django_db
def test_a_repeated_message_stores_nothing_twice():
    tx = TransactionFactory()
    samples = [sample("1000"), sample("2000", timestamp=T0 + timedelta(minutes=1))]

    for _ in range(2):
        meter_values_record(
            charge_point_id=tx.charge_point_id, transaction=tx, samples=samples
        )

    assert MeterValue.objects.count() == 2


@pytest.mark.django_db
def test_an_older_reading_does_not_replace_the_latest_one():
    tx = TransactionFactory()
    later = sample("5000", timestamp=T0 + timedelta(minutes=10))
    earlier = sample("3000", timestamp=T0 + timedelta(minutes=5))

    for given in (later, earlier):
        meter_values_record(
            charge_point_id=tx.charge_point_id, transaction=tx, samples=[given]
        )

    tx.refresh_from_db()
    assert (tx.last_meter_wh, tx.last_meter_at) == (
        Decimal(5000),
        T0 + timedelta(minutes=10),
    )


@pytest.mark.django_db
def test_values_of_a_16_transaction_are_linked_to_it():
    tx = TransactionFactory(transaction_id="77")

    found = meter_values_report(
        charge_point_id=tx.charge_point_id,
        samples=[sample("4321")],
        evse_id=1,
        connector_id=1,
        transaction_id="77",
    )

    assert found == tx
    assert MeterValue.objects.get().transaction == tx
    assert Transaction.objects.get().last_meter_wh == Decimal(4321)


@pytest.mark.django_db
def test_values_outside_a_transaction_are_kept_for_the_station():
    # J01 clock-aligned values on the main meter (EVSE 0), no transaction.
    station = ChargePointFactory()

    meter_values_report(
        charge_point_id=station.pk,
        samples=[sample("123456", context="Sample.Clock")],
        evse_id=0,
    )

    row = MeterValue.objects.get()
    assert (row.charge_point, row.transaction, row.evse_id, row.value) == (
        station,
        None,
        0,
        Decimal(123456),
    )


@pytest.mark.django_db
def test_values_naming_an_unknown_transaction_are_kept_without_it(caplog):
    station = ChargePointFactory()

    found = meter_values_report(
        charge_point_id=station.pk, samples=[sample("1")], transaction_id="999"
    )

    assert found is None
    assert MeterValue.objects.get().transaction is None
    assert "unknown transaction 999" in caplog.text
