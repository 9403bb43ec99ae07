"""Managing stations: registering, configuring, credentials, removal.

What a station reports about itself (boot, status, connection) is in
``lifecycle.py``; this module is what operators do to stations.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.secrets import generate_secret, hash_secret
from csms.errors import ApplicationError, Conflict

# OCPP 1.6 security whitepaper / 2.0.1 BasicAuthPassword: 16 to 40 characters.
PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
# 24 random bytes -> 32 URL-safe characters, inside the OCPP range.
_GENERATED_PASSWORD_BYTES = 24

STATION_UPDATABLE_FIELDS = frozenset(
    {"description", "security_profile", "registration_status", "heartbeat_interval"}
)


def station_password_errors(password: str) -> list[str]:
    """Why ``password`` is no valid station password (empty list if it is)."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return [
            f"A station password has {PASSWORD_MIN_LENGTH} to "
            f"{PASSWORD_MAX_LENGTH} characters (OCPP security profiles 1 and 2)."
        ]
    if not password.isprintable() or not password.isascii():
        return ["Use printable ASCII characters only."]
    return []


def _password_hash(password: str | None) -> str:
    if password is None:
        return ""
    errors = station_password_errors(password)
    if errors:
        raise ApplicationError(errors[0], code="invalid", details={"password": errors})
    return hash_secret(password)


def station_generate_password() -> str:
    return generate_secret(_GENERATED_PASSWORD_BYTES)


def station_create(
    *,
    organization: Organization,
    id: str,  # the OCPP identity, which is the primary key
    password: str | None = None,
    description: str = "",
    security_profile: int = ChargePoint.SecurityProfile.BASIC,
    registration_status: str = ChargePoint.RegistrationStatus.ACCEPTED,
    heartbeat_interval: int | None = None,
) -> ChargePoint:
    """Register a station under its OCPP identity.

    The identity is global (it is the URL path the station connects to), so a
    taken one is refused whichever organization holds it.
    """
    station = ChargePoint(
        id=id,
        organization=organization,
        description=description,
        security_profile=security_profile,
        registration_status=registration_status,
        heartbeat_interval=heartbeat_interval,
        password_hash=_password_hash(password),
    )
    try:
        with transaction.atomic():
            # force_insert: a string primary key would otherwise turn save()
            # into an UPDATE of whichever station already has this id.
            station.save(force_insert=True)
    except IntegrityError as exc:
        raise ApplicationError(
            "A station with this identity already exists.",
            code="invalid",
            details={"id": ["A station with this identity already exists."]},
        ) from exc
    return station


def station_update(*, charge_point: ChargePoint, **fields) -> ChargePoint:
    """Change what an operator configures (not what the station reports)."""
    unknown = set(fields) - STATION_UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            f"Cannot change: {', '.join(sorted(unknown))}.", code="invalid"
        )
    if not fields:
        return charge_point
    for name, value in fields.items():
        setattr(charge_point, name, value)
    with transaction.atomic():
        charge_point.save(update_fields=[*fields, "updated_at"])
    return charge_point


def station_set_password(
    *, charge_point: ChargePoint, password: str | None
) -> ChargePoint:
    """Set (or with ``None`` clear) the Basic-auth password; only its hash stays.

    The station must be given the same password (1.6 ``AuthorizationKey``,
    2.0.1 ``BasicAuthPassword``) or it is refused at its next connect.
    """
    charge_point.password_hash = _password_hash(password)
    with transaction.atomic():
        charge_point.save(update_fields=["password_hash", "updated_at"])
    return charge_point


def station_set_registration_status(
    *, charge_point: ChargePoint, status: str
) -> ChargePoint:
    """Accept or reject a station (e.g. one auto-registered as Pending).

    Takes effect at its next BootNotification.
    """
    if status not in ChargePoint.RegistrationStatus.values:
        raise ApplicationError(
            "Unknown registration status.",
            code="invalid",
            details={"registration_status": [status]},
        )
    return station_update(charge_point=charge_point, registration_status=status)


def station_delete(*, charge_point: ChargePoint) -> None:
    """Remove a station with its EVSEs and journal.

    An online station is refused (409 ``station_online``): deleting it would
    leave a live connection without a row, and the station would come back
    as unknown. Disconnect it (or wait until it is marked offline) first.
    Rows that must outlive the station (e.g. transactions) make it a 409
    ``station_in_use`` as well.
    """
    with transaction.atomic():
        station = ChargePoint.objects.select_for_update().get(pk=charge_point.pk)
        if station.is_online:
            raise Conflict(
                "The station is online; disconnect it before deleting it.",
                code="station_online",
            )
        try:
            station.delete()
        except (ProtectedError, RestrictedError) as exc:
            raise Conflict(
                "The station has records that must be kept (e.g. transactions).",
                code="station_in_use",
            ) from exc
