"""Version-specific connects: OCPP 2.1, auto-registration, daphne."""

import pytest
from asgiref.sync import sync_to_async
from websockets.exceptions import InvalidStatus

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from tests.e2e.helpers import BOOT_201, PASSWORD, eventually, make_station
from tests.e2e.server import Server
from tests.stations import Station

pytestmark = pytest.mark.django_db(transaction=True)


async def test_ocpp21_station_boots_and_reports_status(live):
    await sync_to_async(make_station)("CS21")
    async with await Station.connect(
        live.ws_url, "CS21", PASSWORD, subprotocols=("ocpp2.1",)
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
        status = await station.call(
            "StatusNotification",
            {
                "timestamp": "2026-11-25T10:00:00Z",
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
            },
        )
        unknown = await station.call(
            "NotifyPriorityCharging", {"transactionId": "t1", "activated": True}
        )
    cp = await sync_to_async(ChargePoint.objects.get)(pk="CS21")
    assert station.subprotocol == "ocpp2.1"
    assert boot.payload["status"] == "Accepted" and status.ok
    # 2.1 actions not built yet are answered, never left hanging (MESSAGES.md B.2)
    assert unknown.error_code == "NotSupported"
    assert cp.ocpp_version == "2.1"


async def test_unknown_station_auto_registers_pending_when_organization_allows(live):
    await sync_to_async(Organization.objects.create)(
        name="Open", slug="open", auto_register_stations=True
    )
    async with await Station.connect(
        live.ws_url,
        "NEWCOMER",
        PASSWORD,
        path="ocpp/open/NEWCOMER",
        subprotocols=("ocpp2.0.1",),
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
    cp = await sync_to_async(
        lambda: ChargePoint.objects.select_related("organization").get(pk="NEWCOMER")
    )()
    assert boot.payload["status"] == "Pending"
    assert (cp.organization.slug, cp.registration_status) == ("open", "Pending")
    # trust on first use: the next connect must present the same password
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(
            live.ws_url, "NEWCOMER", "another-password-123", path="ocpp/open/NEWCOMER"
        )
    assert refused.value.response.status_code == 401


async def test_unknown_station_is_refused_when_organization_does_not_auto_register(
    live,
):
    await sync_to_async(Organization.objects.create)(name="Closed", slug="closed")
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(
            live.ws_url, "STRANGER", PASSWORD, path="ocpp/closed/STRANGER"
        )
    assert refused.value.response.status_code == 404
    assert not await sync_to_async(ChargePoint.objects.filter(pk="STRANGER").exists)()


async def test_station_of_another_organization_path_is_refused(live):
    await sync_to_async(Organization.objects.create)(name="Other", slug="other")
    await sync_to_async(make_station)("CP-ACME")
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(
            live.ws_url, "CP-ACME", PASSWORD, path="ocpp/other/CP-ACME"
        )
    assert refused.value.response.status_code == 404


@pytest.fixture
def daphne_server(transactional_db):
    server = Server("daphne").start()
    yield server
    server.stop()


async def test_daphne_serves_stations_and_refuses_bad_credentials_with_403(
    daphne_server,
):
    await sync_to_async(make_station)("CP-DAPHNE")
    async with await Station.connect(
        daphne_server.ws_url, "CP-DAPHNE", PASSWORD, subprotocols=("ocpp2.0.1",)
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
        await eventually(lambda: ChargePoint.objects.get(pk="CP-DAPHNE").is_online)
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(
            daphne_server.ws_url, "CP-DAPHNE", "not-the-password-0000"
        )
    assert boot.payload["status"] == "Accepted"
    # daphne cannot send a denial response: it refuses the handshake with 403
    assert refused.value.response.status_code == 403
