"""Factories for id tags, sessions, meter values and tariffs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory

from apps.billing.models import Tariff, TariffBand
from apps.transactions.models import IdTag, MeterValue, Transaction
from tests.factories import ChargePointFactory, OrganizationFactory

T0 = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


class IdTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdTag

    organization = factory.SubFactory(OrganizationFactory)
    id_tag = factory.Sequence(lambda n: f"TAG{n:04d}")
    type = IdTag.Type.ISO14443
    status = IdTag.Status.ACCEPTED


class TransactionFactory(factory.django.DjangoModelFactory):
    """An active 1.6 session on connector 1 that started at ``T0`` at 1000 Wh."""

    class Meta:
        model = Transaction

    charge_point = factory.SubFactory(ChargePointFactory)
    organization = factory.LazyAttribute(lambda o: o.charge_point.organization)
    ocpp_version = "1.6"
    transaction_id = factory.Sequence(lambda n: str(900000 + n))
    evse_id = 1
    connector_id = 1
    id_tag = "TAG-START"
    auth_status = "Accepted"
    started_at = T0
    meter_start = Decimal(1000)


class MeterValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeterValue

    transaction = factory.SubFactory(TransactionFactory)
    charge_point = factory.LazyAttribute(lambda o: o.transaction.charge_point)
    evse_id = 1
    connector_id = 1
    timestamp = T0
    measurand = "Energy.Active.Import.Register"
    location = "Outlet"
    context = "Sample.Periodic"
    unit = "Wh"
    value = Decimal(1000)
    raw_value = factory.LazyAttribute(lambda o: str(o.value))


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Tariff {n}")
    currency = "EUR"
    price_per_kwh = Decimal("0.30")
    price_per_minute = Decimal("0")
    session_fee = Decimal("0")
    is_default = True


class TariffBandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TariffBand

    tariff = factory.SubFactory(TariffFactory)
    name = "night"
