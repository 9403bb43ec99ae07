"""Creating and changing tariffs, their bands and their stations."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from apps.billing.models import StationTariff, Tariff, TariffBand
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from csms.errors import ApplicationError

TARIFF_FIELDS = frozenset(
    {
        "name",
        "currency",
        "price_per_kwh",
        "price_per_minute",
        "session_fee",
        "idle_fee_per_minute",
        "idle_grace_minutes",
        "timezone",
        "is_default",
    }
)


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(
            f"Unknown time zone {name!r}.",
            code="invalid",
            details={"timezone": ["Use an IANA zone name, e.g. Europe/Berlin."]},
        ) from None


def _validate(tariff: Tariff) -> None:
    try:
        tariff.full_clean()
    except DjangoValidationError as error:
        raise ApplicationError(
            "Invalid tariff.", code="invalid", details=error.message_dict
        ) from None


def _set_bands(tariff: Tariff, bands: Iterable[dict]) -> None:
    tariff.bands.all().delete()
    TariffBand.objects.bulk_create(TariffBand(tariff=tariff, **band) for band in bands)


def _set_charge_points(tariff: Tariff, charge_points: Iterable[ChargePoint]) -> None:
    """Link exactly these stations to ``tariff`` (moving them from any other)."""
    stations = list(charge_points)
    foreign = [cp.pk for cp in stations if cp.organization_id != tariff.organization_id]
    if foreign:
        raise ApplicationError(
            "Stations must belong to the tariff's organization.",
            code="invalid",
            details={"charge_points": foreign},
        )
    StationTariff.objects.filter(tariff=tariff).exclude(
        charge_point__in=stations
    ).delete()
    for station in stations:
        StationTariff.objects.update_or_create(
            charge_point=station, defaults={"tariff": tariff}
        )


def tariff_make_default(*, tariff: Tariff) -> None:
    """Clear the default flag of the organization's other tariffs."""
    Tariff.objects.filter(
        organization_id=tariff.organization_id, is_default=True
    ).exclude(pk=tariff.pk).update(is_default=False)


@transaction.atomic
def tariff_create(
    *,
    organization: Organization,
    bands: Iterable[dict] = (),
    charge_points: Iterable[ChargePoint] = (),
    **fields,
) -> Tariff:
    unknown = set(fields) - TARIFF_FIELDS
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_timezone(fields.get("timezone", "UTC"))
    tariff = Tariff(organization=organization, **fields)
    if tariff.is_default:
        tariff_make_default(tariff=tariff)
    _validate(tariff)
    tariff.save()
    _set_bands(tariff, bands)
    _set_charge_points(tariff, charge_points)
    return tariff


@transaction.atomic
def tariff_update(
    *,
    tariff: Tariff,
    bands: Iterable[dict] | None = None,
    charge_points: Iterable[ChargePoint] | None = None,
    **fields,
) -> Tariff:
    """Change ``fields``; ``bands``/``charge_points`` replace the lists if given."""
    unknown = set(fields) - TARIFF_FIELDS
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "timezone" in fields:
        _check_timezone(fields["timezone"])
    for name, value in fields.items():
        setattr(tariff, name, value)
    if tariff.is_default:
        tariff_make_default(tariff=tariff)
    _validate(tariff)
    tariff.save()
    if bands is not None:
        _set_bands(tariff, bands)
    if charge_points is not None:
        _set_charge_points(tariff, charge_points)
    return tariff
