import pytest

from apps.ocpp import frames
from apps.ocpp.versions import V16, V21, V201, negotiate


def test_call_is_parsed_with_payload_as_sent():
    frame = frames.parse('[2,"id1","BootNotification",{"reason":"PowerUp"}]', V201)
    assert frame == frames.Call("id1", "BootNotification", {"reason": "PowerUp"})


def test_call_result_and_call_error_are_parsed():
    assert frames.parse('[3,"a",{"status":"Accepted"}]', V16) == frames.CallResult(
        "a", {"status": "Accepted"}
    )
    assert frames.parse('[4,"b","NotSupported","no",{}]', V16) == frames.CallError(
        "b", "NotSupported", "no", {}
    )


@pytest.mark.parametrize(
    ("text", "version", "unique_id", "code"),
    [
        ("{", V16, "-1", "FormationViolation"),
        ("{", V201, "-1", "RpcFrameworkError"),
        ("[2]", V201, "-1", "RpcFrameworkError"),
        ('[2, null, "Heartbeat", {}]', V16, "-1", "FormationViolation"),
        (
            '[2, "' + "x" * 37 + '", "Heartbeat", {}]',
            V201,
            "x" * 36,
            "RpcFrameworkError",
        ),
        ('[2, "a", 5, {}]', V201, "a", "RpcFrameworkError"),
        ('[2, "a", "Heartbeat", "x"]', V201, "a", "FormatViolation"),
        ('[9, "a", "Heartbeat", {}]', V201, "a", "MessageTypeNotSupported"),
        (
            '[6, "a", "NotifyPeriodicEventStream", {}]',
            V201,
            "a",
            "MessageTypeNotSupported",
        ),
        ('[9, "a", "Heartbeat", {}]', V16, "a", "FormationViolation"),
        ('[3, "a"]', V16, "-1", "FormationViolation"),
        ('[4, "a", "X", "y"]', V201, "a", "RpcFrameworkError"),
    ],
)
def test_malformed_frames_raise_the_version_s_error(text, version, unique_id, code):
    with pytest.raises(frames.FrameError) as error:
        frames.parse(text, version)
    assert (error.value.unique_id, error.value.code) == (unique_id, code)


def test_ocpp21_send_and_call_result_error_are_understood():
    assert frames.parse('[6,"s","NotifyPeriodicEventStream",{}]', V21) == frames.Send(
        "s", "NotifyPeriodicEventStream", {}
    )
    assert frames.parse('[5,"r","GenericError","x",{}]', V21) == frames.CallError(
        "r", "GenericError", "x", {}
    )


def test_built_frames_are_compact_json_with_decimals_as_numbers():
    from decimal import Decimal

    assert (
        frames.build_result("u", {"price": Decimal("0.35")}) == '[3,"u",{"price":0.35}]'
    )
    assert frames.build_error("u", "GenericError", "x" * 300)[:30] == (
        '[4,"u","GenericError","xxxxxxx'
    )


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.0.1", "ocpp2.1"], "ocpp2.1"),
        (["ocpp1.5", "soap"], None),
        ([], None),
    ],
)
def test_negotiation_takes_our_preferred_offered_version_and_never_guesses(
    offered, chosen
):
    version = negotiate(offered)
    assert (version.subprotocol if version else None) == chosen
