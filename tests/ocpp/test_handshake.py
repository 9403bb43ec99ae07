"""Admission decisions and the per-address failure counter."""

import base64

import pytest

from apps.ocpp.handshake import FailureCounter, basic_credentials
from tests.e2e.helpers import PASSWORD, admit_station, make_station

pytestmark = pytest.mark.django_db


def test_valid_basic_credentials_are_admitted_and_the_connection_recorded():
    make_station("CP-OK")
    admission = admit_station("CP-OK", "CP-OK", PASSWORD)
    assert admission.refusal == "" and admission.credentials.id == "CP-OK"
    from apps.chargepoints.models import ChargePoint

    cp = ChargePoint.objects.get(pk="CP-OK")
    assert (cp.is_online, cp.channel_name, cp.node_name) == (True, "chan-1", "n1")


@pytest.mark.parametrize(
    ("username", "password", "refusal"),
    [
        ("CP-X", "wrong-password-123", "bad_credentials"),
        ("CP-Y", PASSWORD, "bad_credentials"),
        (None, None, "bad_credentials"),
    ],
)
def test_wrong_or_missing_credentials_are_refused(username, password, refusal):
    make_station("CP-X")
    assert admit_station("CP-X", username, password).refusal == refusal


def test_profile_2_requires_tls_and_profile_3_is_refused():
    make_station("CP-TLS", security_profile=2)
    make_station("CP-MTLS", security_profile=3)
    assert admit_station("CP-TLS", "CP-TLS", PASSWORD).refusal == "tls_required"
    assert admit_station("CP-TLS", "CP-TLS", PASSWORD, tls=True).refusal == ""
    assert admit_station("CP-MTLS", "CP-MTLS", PASSWORD, tls=True).refusal == (
        "client_certificate_unsupported"
    )


def test_unknown_station_without_auto_registration_is_refused():
    assert admit_station("NOBODY", "NOBODY", PASSWORD).refusal == "unknown_station"


def test_basic_credentials_are_parsed_from_the_header():
    token = base64.b64encode(b"CP1:pass:word").decode()
    assert basic_credentials([(b"authorization", f"Basic {token}".encode())]) == (
        "CP1",
        "pass:word",
    )
    assert basic_credentials([(b"authorization", b"Bearer x")]) is None
    assert basic_credentials([(b"authorization", b"Basic !!!")]) is None


def test_failure_counter_counts_per_address_and_forgets_after_the_window(settings):
    settings.OCPP_AUTH_FAILURE_WINDOW = 0
    counter = FailureCounter()
    counter.add("1.2.3.4")
    assert counter.count("1.2.3.4") == 0  # the window has passed already
    settings.OCPP_AUTH_FAILURE_WINDOW = 300
    counter.add("1.2.3.4")
    counter.add("1.2.3.4")
    assert (counter.count("1.2.3.4"), counter.count("5.6.7.8")) == (2, 0)
