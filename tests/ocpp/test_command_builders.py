"""The per-version builders of the neutral operations: mappings and rules.

Every built payload is also checked against the version's schema with the
validator ``send_command`` uses.
"""

from datetime import UTC, datetime

import pytest

from apps.ocpp.dispatch import InvalidCommand, validate_command
from apps.ocpp.outbound import UnsupportedOperation
from apps.ocpp.v16 import commands as v16
from apps.ocpp.v21 import commands as v21
from apps.ocpp.v201 import commands as v201

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ADAPTERS = {"1.6": v16, "2.0.1": v201, "2.1": v21}

CASES = [
    # version, builder, kwargs, expected (action, payload)
    ("1.6", "reset", {"type": "Hard", "evse_id": None}, ("Reset", {"type": "Hard"})),
    ("1.6", "reset", {"type": "OnIdle", "evse_id": None}, ("Reset", {"type": "Soft"})),
    (
        "2.0.1",
        "reset",
        {"type": "Hard", "evse_id": None},
        ("Reset", {"type": "Immediate"}),
    ),
    (
        "2.1",
        "reset",
        {"type": "Soft", "evse_id": 3},
        ("Reset", {"type": "OnIdle", "evseId": 3}),
    ),
    (
        "1.6",
        "change_availability",
        {"evse_id": None, "connector_id": None, "operative": False},
        ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
    ),
    (
        "2.0.1",
        "change_availability",
        {"evse_id": 0, "connector_id": None, "operative": True},
        ("ChangeAvailability", {"operationalStatus": "Operative"}),
    ),
    (
        "1.6",
        "trigger",
        {
            "message": "SignChargingStationCertificate",
            "evse_id": None,
            "connector_id": None,
        },
        ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}),
    ),
    (
        "2.0.1",
        "trigger",
        {
            "message": "SignChargePointCertificate",
            "evse_id": None,
            "connector_id": None,
        },
        ("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}),
    ),
    (
        "2.1",
        "trigger",
        {"message": "SignV2G20Certificate", "evse_id": None, "connector_id": None},
        ("TriggerMessage", {"requestedMessage": "SignV2G20Certificate"}),
    ),
    (
        "1.6",
        "data_transfer",
        {"vendor_id": "v", "message_id": None, "data": "raw"},
        ("DataTransfer", {"vendorId": "v", "data": "raw"}),
    ),
    (
        "2.1",
        "remote_start",
        {
            "id_tag": "T",
            "id_token_type": "SomeVendorType",
            "evse_id": None,
            "connector_id": None,
            "charging_profile": None,
            "remote_start_id": 5,
        },
        (
            "RequestStartTransaction",
            {"idToken": {"idToken": "T", "type": "SomeVendorType"}, "remoteStartId": 5},
        ),
    ),
    (
        "1.6",
        "remote_start",
        {
            "id_tag": "T",
            "id_token_type": "Central",
            "evse_id": 2,
            "connector_id": None,
            "charging_profile": None,
            "remote_start_id": 5,
        },
        ("RemoteStartTransaction", {"idTag": "T", "connectorId": 2}),
    ),
    (
        "2.0.1",
        "remote_stop",
        {"transaction_id": 77},
        ("RequestStopTransaction", {"transactionId": "77"}),
    ),
    (
        "2.0.1",
        "get_transaction_status",
        {"transaction_id": None},
        ("GetTransactionStatus", {}),
    ),
    (
        "1.6",
        "firmware_update",
        {
            "request_id": 9,
            "location": "ftp://f.example/fw",
            "retrieve_at": AT,
            "install_at": AT,
            "retries": None,
            "retry_interval": None,
            "signing_certificate": "C",
            "signature": "S",
        },
        (
            "SignedUpdateFirmware",
            {
                "requestId": 9,
                "firmware": {
                    "location": "ftp://f.example/fw",
                    "retrieveDateTime": "2026-12-01T08:00:00.000Z",
                    "installDateTime": "2026-12-01T08:00:00.000Z",
                    "signingCertificate": "C",
                    "signature": "S",
                },
            },
        ),
    ),
    (
        "2.1",
        "diagnostics",
        {
            "request_id": 4,
            "location": "https://l.example/",
            "log_type": "DataCollectorLog",
            "start_time": AT,
            "stop_time": None,
            "retries": 1,
            "retry_interval": None,
        },
        (
            "GetLog",
            {
                "log": {
                    "remoteLocation": "https://l.example/",
                    "oldestTimestamp": "2026-12-01T08:00:00.000Z",
                },
                "logType": "DataCollectorLog",
                "requestId": 4,
                "retries": 1,
            },
        ),
    ),
]


@pytest.mark.parametrize(("version", "builder", "kwargs", "expected"), CASES)
def test_builders_map_the_operation_to_a_schema_valid_command(
    version, builder, kwargs, expected
):
    command = getattr(ADAPTERS[version], builder)(**kwargs)
    assert tuple(command) == expected
    validate_command(version, *command)


@pytest.mark.parametrize(
    ("version", "builder", "kwargs", "field"),
    [
        ("1.6", "unlock", {"evse_id": None, "connector_id": None}, "connector_id"),
        ("1.6", "unlock", {"evse_id": 1, "connector_id": 2}, "connector_id"),
        ("2.0.1", "unlock", {"evse_id": 1, "connector_id": None}, "connector_id"),
        (
            "2.0.1",
            "change_availability",
            {"evse_id": None, "connector_id": 1, "operative": True},
            "evse_id",
        ),
        (
            "2.0.1",
            "trigger",
            {"message": "DiagnosticsStatus", "evse_id": None, "connector_id": None},
            "message",
        ),
        (
            "2.0.1",
            "trigger",
            {"message": "SignV2G20Certificate", "evse_id": None, "connector_id": None},
            "message",
        ),
        ("1.6", "remote_stop", {"transaction_id": "1.5"}, "transaction_id"),
        (
            "1.6",
            "firmware_update",
            {
                "request_id": 1,
                "location": "x",
                "retrieve_at": AT,
                "install_at": AT,
                "retries": None,
                "retry_interval": None,
                "signing_certificate": None,
                "signature": None,
            },
            "install_at",
        ),
        *(
            (
                version,
                "diagnostics",
                {
                    "request_id": 1,
                    "location": "https://l.example/",
                    "log_type": "DataCollectorLog",
                    "start_time": None,
                    "stop_time": None,
                    "retries": None,
                    "retry_interval": None,
                },
                "log_type",
            )
            for version in ("1.6", "2.0.1")
        ),
    ],
)
def test_builders_refuse_what_the_version_cannot_say(version, builder, kwargs, field):
    with pytest.raises(InvalidCommand) as error:
        getattr(ADAPTERS[version], builder)(**kwargs)
    assert list(error.value.details) == [field]


@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [
        ("get_transaction_status", {"transaction_id": "1"}),
        ("base_report", {"request_id": 1, "report_base": "FullInventory"}),
    ],
)
def test_16_has_no_201_only_operations(builder, kwargs):
    with pytest.raises(UnsupportedOperation) as error:
        getattr(v16, builder)(**kwargs)
    assert error.value.code == "operation_not_supported"
    assert error.value.status == 400
