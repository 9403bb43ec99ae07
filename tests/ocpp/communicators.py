"""A station connected to the ASGI application in-process (Channels' communicator)."""

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from csms.asgi import application
from tests.e2e.helpers import PASSWORD, make_station
from tests.stations import basic_auth


async def connected(
    station_id: str, protocol: str = "ocpp1.6"
) -> WebsocketCommunicator:
    """Register ``station_id`` and open its WebSocket with its password."""
    await sync_to_async(make_station)(station_id)
    communicator = WebsocketCommunicator(
        application,
        f"/ocpp/{station_id}",
        subprotocols=[protocol],
        headers=[
            (k.lower().encode(), v.encode())
            for k, v in basic_auth(station_id, PASSWORD).items()
        ],
    )
    ok, _ = await communicator.connect()
    assert ok
    return communicator
