"""Version-neutral operations: the exact frame each OCPP version gets.

One request body, translated by the version's adapter; ``REQUEST_ID`` in an
expected payload stands for the id the answer reports (``remote_start_id`` or
``request_id``), which the CSMS allocates.
"""

import json
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.models import CommandRequest
from apps.ocpp.selectors import remote_start_transaction
from apps.transactions.models import IdTag, Transaction
from tests.e2e.command_helpers import commanding, station_url

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_ID = "<allocated>"
LOCATION = "https://files.example.com/fw-2.bin"

CASES_16 = [
    (
        "remote-start",
        {"id_tag": "TAG-1", "connector_id": 2},
        "RemoteStartTransaction",
        {"idTag": "TAG-1", "connectorId": 2},
    ),
    (
        "remote-stop",
        {"transaction_id": "42"},
        "RemoteStopTransaction",
        {"transactionId": 42},
    ),
    ("reset", {"type": "Soft"}, "Reset", {"type": "Soft"}),
    ("reset", {"type": "Immediate"}, "Reset", {"type": "Hard"}),
    ("unlock", {"connector_id": 2}, "UnlockConnector", {"connectorId": 2}),
    (
        "availability",
        {"operative": False},
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
    ),
    (
        "availability",
        {"evse_id": 1, "operative": True},
        "ChangeAvailability",
        {"connectorId": 1, "type": "Operative"},
    ),
    (
        "trigger",
        {"message": "StatusNotification", "connector_id": 1},
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
    ),
    (
        "trigger",
        {"message": "LogStatusNotification"},
        "ExtendedTriggerMessage",
        {"requestedMessage": "LogStatusNotification"},
    ),
    ("clear-cache", {}, "ClearCache", {}),
    (
        "data-transfer",
        {"vendor_id": "com.example", "message_id": "Ping", "data": {"n": 1}},
        "DataTransfer",
        {"vendorId": "com.example", "messageId": "Ping", "data": '{"n":1}'},
    ),
    (
        "firmware/update",
        {"location": LOCATION, "retrieve_at": "2026-12-01T08:00:00Z", "retries": 3},
        "UpdateFirmware",
        {
            "location": LOCATION,
            "retrieveDate": "2026-12-01T08:00:00.000Z",
            "retries": 3,
        },
    ),
    (
        "firmware/update",
        {
            "location": LOCATION,
            "retrieve_at": "2026-12-01T08:00:00Z",
            "signing_certificate": "CERT",
            "signature": "SIG",
        },
        "SignedUpdateFirmware",
        {
            "requestId": REQUEST_ID,
            "firmware": {
                "location": LOCATION,
                "retrieveDateTime": "2026-12-01T08:00:00.000Z",
                "signingCertificate": "CERT",
                "signature": "SIG",
            },
        },
    ),
    (
        "diagnostics",
        {"location": "ftp://logs.example.com/", "start_time": "2026-11-01T00:00:00Z"},
        "GetDiagnostics",
        {
            "location": "ftp://logs.example.com/",
            "startTime": "2026-11-01T00:00:00.000Z",
        },
    ),
    (
        "diagnostics",
        {"location": "ftp://logs.example.com/", "log_type": "SecurityLog"},
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://logs.example.com/"},
            "logType": "SecurityLog",
            "requestId": REQUEST_ID,
        },
    ),
]

CASES_201 = [
    (
        "remote-start",
        {"id_tag": "TAG-1", "evse_id": 1},
        "RequestStartTransaction",
        {
            "idToken": {"idToken": "TAG-1", "type": "Central"},
            "remoteStartId": REQUEST_ID,
            "evseId": 1,
        },
    ),
    (
        "remote-stop",
        {"transaction_id": "c0ffee-1"},
        "RequestStopTransaction",
        {"transactionId": "c0ffee-1"},
    ),
    ("reset", {"type": "Hard"}, "Reset", {"type": "Immediate"}),
    ("reset", {"type": "Soft"}, "Reset", {"type": "OnIdle"}),
    ("reset", {"type": "Soft", "evse_id": 2}, "Reset", {"type": "OnIdle", "evseId": 2}),
    (
        "unlock",
        {"evse_id": 1, "connector_id": 1},
        "UnlockConnector",
        {"evseId": 1, "connectorId": 1},
    ),
    (
        "availability",
        {"operative": False},
        "ChangeAvailability",
        {"operationalStatus": "Inoperative"},
    ),
    (
        "availability",
        {"evse_id": 2, "connector_id": 1, "operative": True},
        "ChangeAvailability",
        {"operationalStatus": "Operative", "evse": {"id": 2, "connectorId": 1}},
    ),
    (
        "trigger",
        {"message": "MeterValues", "evse_id": 1},
        "TriggerMessage",
        {"requestedMessage": "MeterValues", "evse": {"id": 1}},
    ),
    (
        "trigger",
        {"message": "DiagnosticsStatusNotification"},
        "TriggerMessage",
        {"requestedMessage": "LogStatusNotification"},
    ),
    ("clear-cache", {}, "ClearCache", {}),
    (
        "data-transfer",
        {"vendor_id": "com.example", "data": {"n": [1, 2]}},
        "DataTransfer",
        {"vendorId": "com.example", "data": {"n": [1, 2]}},
    ),
    (
        "firmware/update",
        {"location": LOCATION, "retrieve_at": "2026-12-01T08:00:00Z", "retries": 2},
        "UpdateFirmware",
        {
            "requestId": REQUEST_ID,
            "firmware": {
                "location": LOCATION,
                "retrieveDateTime": "2026-12-01T08:00:00.000Z",
            },
            "retries": 2,
        },
    ),
    (
        "diagnostics",
        {"location": "https://logs.example.com/up", "retry_interval": 30},
        "GetLog",
        {
            "log": {"remoteLocation": "https://logs.example.com/up"},
            "logType": "DiagnosticsLog",
            "requestId": REQUEST_ID,
            "retryInterval": 30,
        },
    ),
    (
        "report",
        {"report_base": "SummaryInventory"},
        "GetBaseReport",
        {"requestId": REQUEST_ID, "reportBase": "SummaryInventory"},
    ),
]


def _case_id(case) -> str:
    return f"{case[0]}-{case[2]}"


def _with_ids(payload, allocated):
    if payload == REQUEST_ID:
        return allocated
    if isinstance(payload, dict):
        return {k: _with_ids(v, allocated) for k, v in payload.items()}
    return payload


_ANSWERS = {
    version: json.loads(
        (
            Path(__file__).parents[1] / "fixtures" / "ocpp" / f"commands_{version}.json"
        ).read_text()
    )
    for version in ("1.6", "2.0.1", "2.1")
}


async def _run(live, version, station_id, path, body, action, payload):
    # A schema-valid answer: the CSMS refuses invalid ones with 502.
    answer_payload = _ANSWERS[version][action]["response"]
    async with commanding(live, station_id, version) as (station, api):
        station.replies[action] = answer_payload
        # when
        answer = await api.post(station_url(station_id, f"{path}/"), json=body)
    # then
    data = answer.json()
    assert answer.status_code == 200, data
    allocated = data.get("remote_start_id", data.get("request_id"))
    assert station.received_calls == [(action, _with_ids(payload, allocated))]
    assert (data["status"], data["action"]) == (answer_payload.get("status"), action)
    assert data["response"] == answer_payload


@pytest.mark.parametrize(
    ("path", "body", "action", "payload"), CASES_16, ids=map(_case_id, CASES_16)
)
async def test_ocpp16_station_gets_the_16_command(live, path, body, action, payload):
    await _run(live, "1.6", "N16", path, body, action, payload)


@pytest.mark.parametrize(
    ("path", "body", "action", "payload"), CASES_201, ids=map(_case_id, CASES_201)
)
async def test_ocpp201_station_gets_the_201_command(live, path, body, action, payload):
    await _run(live, "2.0.1", "N201", path, body, action, payload)


async def test_ocpp21_station_gets_the_201_shaped_command(live):
    await _run(
        live, "2.1", "N21", "reset", {"type": "Hard"}, "Reset", {"type": "Immediate"}
    )


async def test_transaction_status_asks_a_201_station(live):
    async with commanding(live, "N201-TS", "2.0.1") as (station, api):
        station.replies["GetTransactionStatus"] = {
            "ongoingIndicator": True,
            "messagesInQueue": False,
        }
        answer = await api.get(station_url("N201-TS", "transactions/tx-9/status/"))
    assert answer.status_code == 200
    assert station.received_calls == [
        ("GetTransactionStatus", {"transactionId": "tx-9"})
    ]
    assert answer.json()["response"] == {
        "ongoingIndicator": True,
        "messagesInQueue": False,
    }
    assert answer.json()["status"] is None


@pytest.mark.parametrize(
    ("path", "method"),
    [("report/", "post"), ("transactions/7/status/", "get")],
)
async def test_201_only_operations_are_refused_for_a_16_station(live, path, method):
    async with commanding(live, "N16-ONLY", "1.6") as (station, api):
        answer = await getattr(api, method)(
            station_url("N16-ONLY", path), **({"json": {}} if method == "post" else {})
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "operation_not_supported"
    assert station.received_calls == []


async def test_registered_token_is_sent_with_its_type(live):
    async with commanding(live, "N201-TYPE", "2.0.1") as (station, api):
        await sync_to_async(IdTag.objects.create)(
            organization_id=await _organization_of("N201-TYPE"),
            id_tag="RFID-77",
            type=IdTag.Type.ISO14443,
        )
        await api.post(
            station_url("N201-TYPE", "remote-start/"), json={"id_tag": "RFID-77"}
        )
    action, payload = station.received_calls[0]
    assert payload["idToken"] == {"idToken": "RFID-77", "type": "ISO14443"}


async def _organization_of(station_id):
    from apps.chargepoints.models import ChargePoint

    return await sync_to_async(
        lambda: ChargePoint.objects.get(pk=station_id).organization_id
    )()


async def test_201_remote_start_links_the_transaction_by_remote_start_id(live):
    async with commanding(live, "N201-LINK", "2.0.1") as (station, api):
        # given: the operator starts a charge remotely
        answer = await api.post(
            station_url("N201-LINK", "remote-start/"),
            json={"id_tag": "TAG-9", "evse_id": 1},
        )
        remote_start_id = answer.json()["remote_start_id"]
        # when: the station starts the transaction it was asked for
        event = await station.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": "2026-11-25T10:00:00Z",
                "triggerReason": "RemoteStart",
                "seqNo": 0,
                "transactionInfo": {
                    "transactionId": "tx-remote-1",
                    "remoteStartId": remote_start_id,
                },
                "idToken": {"idToken": "TAG-9", "type": "Central"},
                "evse": {"id": 1, "connectorId": 1},
            },
        )
        command = await api.get(f"/api/v1/commands/{answer.json()['command_id']}/")
    # then
    assert event.ok
    request = await sync_to_async(
        CommandRequest.objects.select_related("charge_point", "command").get
    )(pk=remote_start_id)
    tx = await sync_to_async(remote_start_transaction)(request)
    assert tx is not None and tx.transaction_id == "tx-remote-1"
    assert request.command.action == "RequestStartTransaction"
    assert request.command_id == answer.json()["command_id"]
    # the integrator finds the transaction from the command
    assert command.json()["request_id"] == remote_start_id
    assert command.json()["transaction"] == tx.pk


async def test_16_remote_start_links_the_transaction_by_token_and_connector(live):
    async with commanding(live, "N16-LINK", "1.6") as (station, api):
        answer = await api.post(
            station_url("N16-LINK", "remote-start/"),
            json={"id_tag": "TAG-16", "connector_id": 1},
        )
        started = await station.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG-16",
                "meterStart": 1000,
                "timestamp": _now(),
            },
        )
    request = await sync_to_async(
        CommandRequest.objects.select_related("charge_point").get
    )(pk=answer.json()["remote_start_id"])
    tx = await sync_to_async(remote_start_transaction)(request)
    expected = await sync_to_async(Transaction.objects.get)(charge_point_id="N16-LINK")
    assert tx == expected
    assert str(started.payload["transactionId"]) == tx.transaction_id


def _now() -> str:
    from apps.ocpp.timeutil import now_ocpp

    return now_ocpp()


async def test_201_base_report_is_recorded_for_its_notify_report_parts(live):
    from apps.chargepoints.models import DeviceModelReport

    async with commanding(live, "N201-REP", "2.0.1") as (station, api):
        answer = await api.post(
            station_url("N201-REP", "report/"), json={"report_base": "FullInventory"}
        )
    request_id = answer.json()["request_id"]
    report = await sync_to_async(DeviceModelReport.objects.get)(
        charge_point_id="N201-REP"
    )
    assert station.received_calls == [
        ("GetBaseReport", {"requestId": request_id, "reportBase": "FullInventory"})
    ]
    assert (report.request_id, report.report_base, report.station_status) == (
        request_id,
        "FullInventory",
        "Accepted",
    )
