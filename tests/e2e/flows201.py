"""The OCPP 2.0.1 Part 6 reusable states, played by a test station.

``Flow201(station)`` keeps the transaction id and seqNo of one EVSE's session
and sends what the OCTT sends in each reusable state (Part 6 §"Reusable
States": Authorized, EVConnectedPreSession, EnergyTransferStarted,
StopAuthorized, EVConnectedPostSession, EVDisconnected). Every method returns
the CSMS's answer and asserts that it was a CALLRESULT.
"""

from __future__ import annotations

import itertools

from apps.ocpp.timeutil import now_ocpp
from tests.stations import Answer, Station

VALID_TOKEN = {"idToken": "OCTT-VALID-1", "type": "ISO14443"}
_transactions = itertools.count(1)


class Flow201:
    def __init__(
        self,
        station: Station,
        *,
        evse_id: int = 1,
        connector_id: int = 1,
        id_token: dict = VALID_TOKEN,
    ):
        self.station = station
        self.evse_id = evse_id
        self.connector_id = connector_id
        self.id_token = id_token
        self.transaction_id = f"{station.id}-tx{next(_transactions)}"
        self.seq_no = 0
        self.started = False

    async def _ok(self, action: str, payload: dict) -> Answer:
        answer = await self.station.call(action, payload)
        assert answer.ok, (action, answer)
        return answer

    async def status(self, status: str, *, evse_id=None, connector_id=None) -> Answer:
        return await self._ok(
            "StatusNotification",
            {
                "timestamp": now_ocpp(),
                "connectorStatus": status,
                "evseId": evse_id or self.evse_id,
                "connectorId": connector_id or self.connector_id,
            },
        )

    async def event(
        self,
        trigger_reason: str,
        *,
        charging_state: str | None = None,
        event_type: str | None = None,
        with_token: bool = False,
        stopped_reason: str | None = None,
        remote_start_id: int | None = None,
        meter_wh: float | None = None,
        evse: bool = False,
    ) -> Answer:
        event_type = event_type or ("Updated" if self.started else "Started")
        info: dict = {"transactionId": self.transaction_id}
        if charging_state:
            info["chargingState"] = charging_state
        if stopped_reason:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        payload: dict = {
            "eventType": event_type,
            "timestamp": now_ocpp(),
            "triggerReason": trigger_reason,
            "seqNo": self.seq_no,
            "transactionInfo": info,
        }
        if with_token:
            payload["idToken"] = self.id_token
        if evse or not self.started:
            payload["evse"] = {"id": self.evse_id, "connectorId": self.connector_id}
        if meter_wh is not None:
            payload["meterValue"] = [
                {
                    "timestamp": now_ocpp(),
                    "sampledValue": [
                        {
                            "value": meter_wh,
                            "context": "Trigger"
                            if trigger_reason == "Trigger"
                            else "Transaction.Begin"
                            if event_type == "Started"
                            else "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                        }
                    ],
                }
            ]
        self.seq_no += 1
        self.started = True
        return await self._ok("TransactionEvent", payload)

    # --- reusable states -------------------------------------------------------

    async def authorized(self) -> tuple[Answer, Answer]:
        """Reusable State Authorized: AuthorizeRequest, then TransactionEvent."""
        authorize = await self._ok("Authorize", {"idToken": self.id_token})
        event = await self.event("Authorized", with_token=True)
        return authorize, event

    async def ev_connected_pre_session(self) -> Answer:
        await self.status("Occupied")
        return await self.event(
            "CablePluggedIn", charging_state="EVConnected", evse=True
        )

    async def energy_transfer_started(self) -> Answer:
        if not self.started:
            await self.authorized()
        await self.ev_connected_pre_session()
        return await self.event(
            "ChargingStateChanged", charging_state="Charging", meter_wh=1000.0
        )

    async def stop_authorized(self) -> Answer:
        return await self.event("StopAuthorized", with_token=True)

    async def ev_connected_post_session(self) -> Answer:
        return await self.event("ChargingStateChanged", charging_state="EVConnected")

    async def ev_disconnected(self) -> Answer:
        await self.status("Available")
        return await self.event(
            "EVCommunicationLost",
            event_type="Ended",
            charging_state="Idle",
            stopped_reason="EVDisconnected",
            meter_wh=3500.0,
        )
