"""One OCPP 2.0.1 transaction as a test station reports it.

``Tx201`` keeps the transaction id and seqNo of one EVSE's session, sends
schema-checked TransactionEventRequests with the timestamps, tokens and meter
values a test chooses, and plays the Part 6 reusable states (tables 701-707:
Authorized, EVConnectedPreSession, EnergyTransferStarted, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.charging import at, ocpp
from tests.stations import Answer, Station


class Tx201:
    """One 2.0.1 transaction as a station reports it (E01-E15, J02).

    ``event()`` sends a TransactionEventRequest with the next seqNo (or the
    one given); ``payload()`` only builds it, for repeats and reordering.
    """

    def __init__(
        self,
        station: Station,
        transaction_id: str,
        *,
        id_token: dict,
        evse_id: int = 1,
        connector_id: int = 1,
    ):
        self.station = station
        self.transaction_id = transaction_id
        self.id_token = id_token
        self.evse_id = evse_id
        self.connector_id = connector_id
        self.seq_no = 0
        self.started = False

    def payload(
        self,
        trigger_reason: str,
        *,
        event_type: str | None = None,
        timestamp: str | None = None,
        seq_no: int | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        id_token: dict | bool = False,
        meter_value: list[dict] | None = None,
        offline: bool = False,
        evse: bool | None = None,
        remote_start_id: int | None = None,
    ) -> dict:
        """``evse``: None: with Started only; True: here (the first event after
        the EV connected, E01.FR.16); False: never."""
        event_type = event_type or ("Updated" if self.started else "Started")
        info: dict = {"transactionId": self.transaction_id}
        if charging_state:
            info["chargingState"] = charging_state
        if stopped_reason:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        if seq_no is None:
            seq_no = self.seq_no
            self.seq_no += 1
        payload: dict = {
            "eventType": event_type,
            "timestamp": timestamp or at(datetime.now(UTC)),
            "triggerReason": trigger_reason,
            "seqNo": seq_no,
            "transactionInfo": info,
        }
        if offline:
            payload["offline"] = True
        if id_token:
            payload["idToken"] = self.id_token if id_token is True else id_token
        if evse or (evse is None and event_type == "Started"):
            payload["evse"] = {"id": self.evse_id, "connectorId": self.connector_id}
        if meter_value:
            payload["meterValue"] = meter_value
        self.started = True
        return payload

    async def event(self, trigger_reason: str, **options) -> Answer:
        return await ocpp(
            self.station, "TransactionEvent", self.payload(trigger_reason, **options)
        )

    async def status(self, status: str, timestamp: str | None = None) -> Answer:
        return await ocpp(
            self.station,
            "StatusNotification",
            {
                "timestamp": timestamp or at(datetime.now(UTC)),
                "connectorStatus": status,
                "evseId": self.evse_id,
                "connectorId": self.connector_id,
            },
        )

    # --- Part 6 reusable states (OCPP 2.0.1 Part 6, tables 701-707) ------------

    async def authorized(self, **options) -> tuple[Answer, Answer]:
        authorize = await ocpp(self.station, "Authorize", {"idToken": self.id_token})
        event = await self.event("Authorized", id_token=True, **options)
        return authorize, event

    async def ev_connected_pre_session(self, **options) -> Answer:
        await self.status("Occupied")
        return await self.event(
            "CablePluggedIn", charging_state="EVConnected", evse=True, **options
        )

    async def energy_transfer_started(self, **options) -> Answer:
        """Authorized and plugged in first, unless they already happened."""
        if not self.started:
            await self.authorized()
            await self.ev_connected_pre_session()
        return await self.event(
            "ChargingStateChanged", charging_state="Charging", **options
        )

    async def energy_transfer_suspended(self, **options) -> Answer:
        return await self.event(
            "ChargingStateChanged", charging_state="SuspendedEV", **options
        )

    async def stop_authorized(self, **options) -> Answer:
        return await self.event("StopAuthorized", id_token=True, **options)

    async def ev_connected_post_session(self, **options) -> Answer:
        return await self.event(
            "ChargingStateChanged", charging_state="EVConnected", **options
        )

    async def ev_disconnected(self, **options) -> Answer:
        await self.status("Available")
        options.setdefault("stopped_reason", "EVDisconnected")
        return await self.event(
            "EVCommunicationLost",
            event_type="Ended",
            charging_state="Idle",
            **options,
        )
