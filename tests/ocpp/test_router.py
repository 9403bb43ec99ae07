"""The router: handler lookup, validation codes, pending-station gate."""

import pytest

from apps.ocpp.errors import CallErrorReply
from apps.ocpp.registry import router_for
from apps.ocpp.router import known_actions
from apps.ocpp.versions import V16, V21, V201


class FakeSession:
    def __init__(self, version, status="Accepted"):
        self.version = version
        self.ocpp_version = version.number
        self.charge_point_id = "CP"
        self.organization_id = 1
        self.registration_status = status
        self.triggered_actions = set()

    @property
    def accepted(self):
        return self.registration_status == "Accepted"


async def test_heartbeat_is_answered_with_current_time():
    router = router_for(V201)
    response = await router.dispatch(FakeSession(V201), "Heartbeat", {})
    assert response["currentTime"].endswith("Z")


@pytest.mark.parametrize("version", [V16, V201, V21])
async def test_known_unhandled_action_is_not_supported(version):
    router = router_for(version)
    unhandled = sorted(known_actions(version) - set(router.routes))[0]
    with pytest.raises(CallErrorReply) as error:
        await router.dispatch(FakeSession(version), unhandled, {})
    assert error.value.code == "NotSupported"


@pytest.mark.parametrize("version", [V16, V201, V21])
async def test_unknown_action_is_not_implemented(version):
    with pytest.raises(CallErrorReply) as error:
        await router_for(version).dispatch(FakeSession(version), "Teleport", {})
    assert error.value.code == "NotImplemented"


async def test_pending_station_may_only_boot():
    session = FakeSession(V16, status="Pending")
    with pytest.raises(CallErrorReply) as error:
        await router_for(V16).dispatch(session, "Heartbeat", {})
    assert error.value.code == "SecurityError"


async def test_a_triggered_message_is_allowed_once_while_pending():
    session = FakeSession(V16, status="Pending")
    session.triggered_actions.add("Heartbeat")
    response = await router_for(V16).dispatch(session, "Heartbeat", {})
    assert "currentTime" in response
    with pytest.raises(CallErrorReply):
        await router_for(V16).dispatch(session, "Heartbeat", {})


async def test_invalid_response_of_a_handler_becomes_internal_error(monkeypatch):
    router = router_for(V16)

    async def broken(session, payload):
        return {"currentTime": 5}

    monkeypatch.setitem(router.routes, "Heartbeat", broken)
    with pytest.raises(CallErrorReply) as error:
        await router.dispatch(FakeSession(V16), "Heartbeat", {})
    assert error.value.code == "InternalError"


async def test_every_version_routes_boot_heartbeat_and_status():
    for version in (V16, V201, V21):
        assert {"BootNotification", "Heartbeat", "StatusNotification"} <= set(
            router_for(version).routes
        )


@pytest.mark.parametrize(
    ("version", "action", "payload", "field"),
    [
        # Draft 4 (which the package applies) has no integer 1.0: the fast
        # validator once accepted it and the handler got a float.
        (
            V16,
            "StatusNotification",
            {"connectorId": 1.0, "errorCode": "NoError", "status": "Available"},
            "connectorId",
        ),
        (V201, "Heartbeat", {"customData": {"vendorId": 5}}, "customData/vendorId"),
    ],
)
async def test_a_value_of_the_wrong_type_is_a_type_constraint_violation(
    version, action, payload, field
):
    with pytest.raises(CallErrorReply) as error:
        await router_for(version).dispatch(FakeSession(version), action, payload)
    assert error.value.code == "TypeConstraintViolation"
    assert error.value.details == {"field": field}
