"""Incoming DataTransfer: routing by vendorId/messageId, answers per version."""

import sys

import pytest

from apps.ocpp import datatransfer
from apps.ocpp.datatransfer import (
    DataTransferReply,
    IncomingDataTransfer,
    handler_for,
    route,
    vendor_handler,
)
from apps.ocpp.db import executor
from apps.ocpp.v16.handlers.data_transfer import DataTransferHandlers as Handlers16
from apps.ocpp.v201.handlers.data_transfer import DataTransferHandlers as Handlers201


@pytest.fixture
def registry(monkeypatch):
    """A registry of its own for the test (the built-ins loaded into it)."""
    monkeypatch.setattr(datatransfer, "_handlers", {})
    monkeypatch.setattr(datatransfer, "_loaded", False)
    monkeypatch.setattr("apps.ocpp.datatransfer.load_handlers", lambda: None)
    vendor_handler("com.test", "Ping")(_pong)
    vendor_handler("com.fallback")(_pong)
    return datatransfer._handlers


async def _pong(request: IncomingDataTransfer) -> DataTransferReply:
    return DataTransferReply("Accepted", data={"pong": request.data})


class _Session:
    charge_point_id = "CP1"
    organization_id = 1

    def __init__(self, version):
        self.ocpp_version = version


def _request(vendor_id, message_id=None, data=None):
    return IncomingDataTransfer("CP1", 1, "2.0.1", vendor_id, message_id, data)


def test_unknown_vendor_and_unknown_message(registry):
    assert handler_for("com.other", "Ping") == "UnknownVendorId"
    assert handler_for("com.test", "Pong") == "UnknownMessageId"
    assert handler_for("com.test", None) == "UnknownMessageId"
    assert handler_for("com.test", "Ping") is _pong


def test_a_vendor_fallback_takes_any_message(registry):
    assert handler_for("com.fallback", "Anything") is _pong
    assert handler_for("com.fallback", None) is _pong


def test_a_second_handler_for_the_same_message_is_refused(registry):
    async def other(request):
        return DataTransferReply()

    with pytest.raises(ValueError):
        vendor_handler("com.test", "Ping")(other)


async def test_route_answers_unknown_vendor_without_a_handler(registry):
    reply = await route(_request("com.nobody", "X"))

    assert reply == DataTransferReply("UnknownVendorId")


@pytest.mark.django_db(transaction=True)
async def test_plain_function_handlers_run_in_the_group_commit(registry):
    def count(request):
        from apps.organizations.models import Organization

        return DataTransferReply("Accepted", data=str(Organization.objects.count()))

    vendor_handler("com.test", "Count")(count)
    try:
        reply = await route(_request("com.test", "Count"))
    finally:
        executor.shutdown()

    assert reply.status == "Accepted" and reply.data.isdigit()


async def test_v201_answer_keeps_json_data_as_sent(registry):
    data = {"camelCase": [1, 2.5, {"nestedKey": None}]}

    response = await Handlers201().on_data_transfer(
        _Session("2.0.1"), {"vendorId": "com.test", "messageId": "Ping", "data": data}
    )

    assert response == {"status": "Accepted", "data": {"pong": data}}


async def test_v16_answer_data_is_a_string(registry):
    response = await Handlers16().on_data_transfer(
        _Session("1.6"), {"vendorId": "com.test", "messageId": "Ping", "data": "hi"}
    )

    assert response == {"status": "Accepted", "data": '{"pong": "hi"}'}


async def test_v201_status_info_from_the_reply(registry):
    async def busy(request):
        return DataTransferReply(
            "Rejected", reason_code="Busy", additional_info="Later"
        )

    vendor_handler("com.test", "Busy")(busy)

    response = await Handlers201().on_data_transfer(
        _Session("2.0.1"), {"vendorId": "com.test", "messageId": "Busy"}
    )

    assert response == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "Busy", "additionalInfo": "Later"},
    }


def test_builtin_handlers_are_loaded_from_the_setting(settings, monkeypatch):
    # given: a fresh registry, the built-in module not imported yet
    monkeypatch.setattr(datatransfer, "_handlers", {})
    monkeypatch.setattr(datatransfer, "_loaded", False)
    monkeypatch.delitem(sys.modules, "apps.ocpp.datatransfer_builtin", raising=False)
    settings.OCPP_DATA_TRANSFER_HANDLERS = ["apps.ocpp.datatransfer_builtin"]

    # when
    datatransfer.load_handlers()

    # then
    assert handler_for("csms", "Echo").__name__ == "echo"
