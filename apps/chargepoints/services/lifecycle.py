"""What stations do to their own record: connect, boot, leave (status: status.py).

Called by the OCPP edge (inside its group-commit transaction) and by periodic
jobs; version-neutral: the edge maps each OCPP version's payloads to these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.authlists.services import local_list_station_booted
from apps.chargepoints.models import ChargePoint
from apps.events.publisher import publish_event
from apps.organizations.models import Organization
from apps.organizations.secrets import hash_secret, verify_secret
from csms.bulk import batch_cache, stage_update

# Connecting stations' rows, preloaded and locked per group-commit batch: in a
# reconnect storm thousands of admissions queue up, each once three queries.
KIND = "station"


@dataclass(frozen=True)
class StationCredentials:
    """What the handshake needs to admit a station."""

    id: str
    organization_id: int
    organization_slug: str
    security_profile: int
    password_hash: str
    registration_status: str


@dataclass(frozen=True)
class BootInfo:
    vendor: str
    model: str
    serial_number: str = ""
    firmware_version: str = ""
    iccid: str = ""
    imsi: str = ""
    meter_type: str = ""
    meter_serial_number: str = ""


@dataclass(frozen=True)
class BootResult:
    status: str
    interval: int


def _credentials(station: ChargePoint) -> StationCredentials:
    return StationCredentials(
        id=station.id,
        organization_id=station.organization_id,
        organization_slug=station.organization.slug,
        security_profile=station.security_profile,
        password_hash=station.password_hash,
        registration_status=station.registration_status,
    )


def preload_key(charge_point_id: str) -> tuple:
    """What a connecting station asks its batch to preload."""
    return (KIND, charge_point_id)


def preload_stations(keys: list[str]) -> None:
    """Load and lock the rows of a batch's connecting stations, with one query.

    Locked in key order, so two workers never wait on each other in a cycle.
    """
    cache = batch_cache()
    for station in (
        ChargePoint.objects.select_related("organization")
        .select_for_update(of=("self",))
        .filter(pk__in=set(keys))
        .order_by("pk")
    ):
        cache[(KIND, station.pk)] = station


def _preloaded(charge_point_id: str) -> ChargePoint | None:
    """The batch's locked copy of the station's row, if its batch loaded one.

    None also for a station the preload did not find: whoever needs it then
    reads it (it may have been registered in this batch).
    """
    cache = batch_cache()
    return None if cache is None else cache.get((KIND, charge_point_id))


def station_credentials(*, charge_point_id: str) -> StationCredentials | None:
    station = (
        _preloaded(charge_point_id)
        or ChargePoint.objects.select_related("organization")
        .filter(pk=charge_point_id)
        .first()
    )
    return _credentials(station) if station else None


def station_auto_register(
    *, charge_point_id: str, organization_slug: str, password: str | None
) -> StationCredentials | None:
    """Create an unknown station as Pending, if its organization allows it.

    The password it presents on this first connect becomes its password, so
    later connects must present the same (trust on first use); an operator
    accepts the station before it may charge.
    """
    if not password:
        return None
    organization = Organization.objects.filter(
        slug=organization_slug, auto_register_stations=True
    ).first()
    if organization is None:
        return None
    station, _ = ChargePoint.objects.get_or_create(
        pk=charge_point_id,
        defaults={
            "organization": organization,
            "registration_status": ChargePoint.RegistrationStatus.PENDING,
            "security_profile": ChargePoint.SecurityProfile.BASIC,
            "password_hash": hash_secret(password),
            "description": "Registered automatically on first connect",
        },
    )
    station.organization = organization
    return _credentials(station)


def station_connected(
    *,
    charge_point_id: str,
    ocpp_version: str,
    node_name: str,
    channel_name: str,
    remote_address: str,
) -> str:
    """Record the new connection; returns the channel it replaced ('' if none)."""
    station = _preloaded(charge_point_id) or (
        ChargePoint.objects.select_for_update().get(pk=charge_point_id)
    )
    previous = station.channel_name if station.is_online else ""
    now = timezone.now()
    fields = {
        "is_online": True,
        "ocpp_version": ocpp_version,
        "node_name": node_name,
        "channel_name": channel_name,
        "remote_address": remote_address[:64],
        "connected_at": now,
        "last_seen_at": now,
    }
    ChargePoint.objects.filter(pk=charge_point_id).update(**fields)
    # The batch's copy too: a second connect in the same batch must see this one.
    for name, value in fields.items():
        setattr(station, name, value)
    publish_event(
        "charge_point.connected",
        organization_id=station.organization_id,
        data={
            "charge_point": charge_point_id,
            "ocpp_version": ocpp_version,
            "node": node_name,
        },
    )
    return previous if previous != channel_name else ""


@dataclass(frozen=True)
class Admission:
    """The outcome of a station's connection request."""

    credentials: StationCredentials | None
    refusal: str = ""  # unknown_station, wrong_organization, tls_required, ...
    previous_channel: str = ""


def station_admit(
    *,
    charge_point_id: str,
    organization_slug: str | None,
    username: str | None,
    password: str | None,
    tls: bool,
    ocpp_version: str,
    node_name: str,
    channel_name: str,
    remote_address: str,
) -> Admission:
    """Check a connecting station against its security profile and, if it
    passes, record the connection: one trip to the database per connect.

    Profile 0 needs nothing; 1 HTTP Basic (username = identity); 2 the same
    over TLS; 3 (client certificates) is refused until supported.
    """
    credentials = station_credentials(charge_point_id=charge_point_id)
    if credentials is None:
        credentials = station_auto_register(
            charge_point_id=charge_point_id,
            organization_slug=organization_slug or settings.OCPP_DEFAULT_ORGANIZATION,
            password=password if username == charge_point_id else None,
        )
        if credentials is None:
            return Admission(None, "unknown_station")
    if organization_slug and organization_slug != credentials.organization_slug:
        return Admission(None, "wrong_organization")
    refusal = _security_refusal(credentials, username, password, tls)
    if refusal:
        return Admission(None, refusal)
    previous = station_connected(
        charge_point_id=charge_point_id,
        ocpp_version=ocpp_version,
        node_name=node_name,
        channel_name=channel_name,
        remote_address=remote_address,
    )
    return Admission(credentials, previous_channel=previous)


def _security_refusal(
    credentials: StationCredentials,
    username: str | None,
    password: str | None,
    tls: bool,
) -> str:
    profile = credentials.security_profile
    if profile == ChargePoint.SecurityProfile.NONE:
        return ""
    if profile >= ChargePoint.SecurityProfile.BASIC_TLS and not tls:
        return "tls_required"
    if profile == ChargePoint.SecurityProfile.CLIENT_CERT:
        # Needs the client certificate, which the ASGI servers do not pass on.
        return "client_certificate_unsupported"
    if (
        username != credentials.id
        or not password
        or not credentials.password_hash
        or not verify_secret(password, credentials.password_hash)
    ):
        return "bad_credentials"
    return ""


def station_disconnected(*, charge_point_id: str, channel_name: str) -> bool:
    """Mark offline, unless a newer connection already holds the station."""
    station = ChargePoint.objects.filter(
        pk=charge_point_id, channel_name=channel_name
    ).first()
    if station is None:
        return False
    ChargePoint.objects.filter(pk=charge_point_id, channel_name=channel_name).update(
        is_online=False, channel_name="", disconnected_at=timezone.now()
    )
    publish_event(
        "charge_point.disconnected",
        organization_id=station.organization_id,
        data={"charge_point": charge_point_id, "reason": "connection closed"},
    )
    return True


def station_boot(
    *, charge_point_id: str, ocpp_version: str, info: BootInfo
) -> BootResult:
    """Store what the station says it is; answer with its registration status.

    In a group-commit batch the row comes from the batch's preload and the
    update goes out with the batch's bulk statements: a reconnect storm is
    thousands of boots.
    """
    station = _preloaded(charge_point_id) or (
        ChargePoint.objects.select_related("organization").get(pk=charge_point_id)
    )
    fields = {
        "vendor": info.vendor,
        "model": info.model,
        "serial_number": info.serial_number,
        "firmware_version": info.firmware_version,
        "iccid": info.iccid,
        "imsi": info.imsi,
        "meter_type": info.meter_type,
        "meter_serial_number": info.meter_serial_number,
    }
    fields.update(ocpp_version=ocpp_version, last_boot_at=timezone.now())
    for name, value in fields.items():
        setattr(station, name, value)
    stage_update(station, list(fields))
    status = station.registration_status
    if status == ChargePoint.RegistrationStatus.ACCEPTED:
        interval = station.effective_heartbeat_interval()
        # Its local authorization list, after this commit (if the org syncs).
        local_list_station_booted(
            charge_point_id=charge_point_id, organization=station.organization
        )
    else:
        # Pending/Rejected: the interval is when to retry the boot (1.6 §4.2).
        interval = settings.OCPP_PENDING_RETRY_INTERVAL
    return BootResult(status=status, interval=interval)


def mark_stale_offline(*, now: datetime | None = None) -> list[str]:
    """Stations whose last message is older than a multiple of their interval.

    Catches connections that died without a close (the server's ping timeout
    catches most; this catches the rest, e.g. a crashed node).
    """
    now = now or timezone.now()
    factor = settings.OCPP_OFFLINE_AFTER_HEARTBEATS
    default = settings.OCPP_HEARTBEAT_INTERVAL
    stale = []
    candidates = ChargePoint.objects.filter(is_online=True).select_related(
        "organization"
    )
    for station in candidates.only(
        "id", "last_seen_at", "heartbeat_interval", "organization__heartbeat_interval"
    ):
        interval = (
            station.heartbeat_interval
            or station.organization.heartbeat_interval
            or default
        )
        seen = station.last_seen_at or now - timedelta(days=365)
        # Stamps reach the database every OCPP_LAST_SEEN_WRITE_S seconds, and
        # a station's only once the one written is OCPP_LAST_SEEN_RESOLUTION_S old.
        allowed = (
            interval * factor
            + settings.OCPP_LAST_SEEN_WRITE_S
            + settings.OCPP_LAST_SEEN_RESOLUTION_S
        )
        if seen < now - timedelta(seconds=allowed):
            stale.append(station)
    for station in stale:
        updated = ChargePoint.objects.filter(
            pk=station.pk, is_online=True, last_seen_at=station.last_seen_at
        ).update(is_online=False, channel_name="", disconnected_at=now)
        if updated:
            publish_event(
                "charge_point.disconnected",
                organization_id=station.organization_id,
                data={"charge_point": station.pk, "reason": "no message received"},
            )
    return [s.pk for s in stale]
