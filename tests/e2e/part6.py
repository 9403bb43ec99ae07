"""Shared steps of the Part 6 cases: tokens, connector states, reboots."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint, Connector
from apps.transactions.models import IdTag, Transaction
from tests.e2e.command_helpers import connect_station
from tests.e2e.flows201 import VALID_TOKEN
from tests.e2e.helpers import BOOT_201, eventually
from tests.stations import Station


async def register_valid_token(station_id: str, token: dict = VALID_TOKEN) -> None:
    """<Configured valid_idtoken_idtoken> of the OCTT: Accepted in the org."""

    def create():
        organization_id = ChargePoint.objects.get(pk=station_id).organization_id
        IdTag.objects.create(
            organization_id=organization_id,
            id_tag=token["idToken"],
            type=token["type"],
            status=IdTag.Status.ACCEPTED,
        )

    await sync_to_async(create)()


async def connector_status(station_id: str, evse_id: int, connector_id: int) -> str:
    """The status the CSMS holds, once the station's report has been stored."""

    def read():
        return (
            Connector.objects.filter(
                evse__charge_point_id=station_id,
                evse__evse_id=evse_id,
                connector_id=connector_id,
            )
            .values_list("status", flat=True)
            .first()
        )

    return await sync_to_async(read)()


async def wait_connector_status(station_id, evse_id, connector_id, status) -> None:
    await eventually(
        lambda: Connector.objects.filter(
            evse__charge_point_id=station_id,
            evse__evse_id=evse_id,
            connector_id=connector_id,
            status=status,
        ).exists()
    )


async def reboot(live, station: Station, reason: str) -> tuple[Station, dict]:
    """The station restarts: a new connection and a BootNotification."""
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk=station.id).is_online)
    again = await connect_station(live.ws_url, station.id, "2.0.1", boot=False)
    boot = await again.call("BootNotification", {**BOOT_201, "reason": reason})
    return again, boot.payload


async def transaction_of(station_id: str, transaction_id: str) -> Transaction:
    return await sync_to_async(Transaction.objects.get)(
        charge_point_id=station_id, transaction_id=transaction_id
    )
