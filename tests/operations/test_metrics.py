import gc

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from apps.operations import gctracker

pytestmark = pytest.mark.django_db


def test_metrics_are_served_in_prometheus_text_format(client):
    # given
    client.get("/health/")

    # when
    response = client.get("/metrics")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'csms_http_requests_total{method="GET",route="health/",status="200"}' in text
    for name in (
        "csms_stations_connected",
        "csms_ocpp_messages_in_total",
        "csms_ocpp_messages_out_total",
        "csms_ocpp_handler_seconds",
        "csms_ocpp_auth_failures_total",
        "csms_gc_max_pause_seconds",
        "csms_http_request_seconds",
    ):
        assert f"# TYPE {name} " in text


def test_metrics_need_the_bearer_token_when_one_is_set(client):
    with override_settings(METRICS_TOKEN="s3cret-token"):
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert b"csms_http_requests_total" in right.content


def test_gc_pauses_are_measured_and_the_longest_is_exported():
    # given
    gctracker.install()
    before = REGISTRY.get_sample_value("csms_gc_pauses_total", {"generation": "2"})

    # when
    gc.collect()

    # then
    after = REGISTRY.get_sample_value("csms_gc_pauses_total", {"generation": "2"})
    assert after == before + 1
    assert REGISTRY.get_sample_value("csms_gc_max_pause_seconds") > 0
    assert (
        REGISTRY.get_sample_value("csms_gc_pause_seconds_total", {"generation": "2"})
        > 0
    )


def test_unknown_methods_and_paths_do_not_grow_the_label_set(client):
    # when
    client.generic("BREW", "/no-such-page/")

    # then
    assert (
        REGISTRY.get_sample_value(
            "csms_http_requests_total",
            {"method": "OTHER", "route": "unmatched", "status": "404"},
        )
        >= 1
    )


def test_freezing_counts_what_it_froze_without_walking_the_frozen_heap(monkeypatch):
    # given: nothing frozen yet; counting the frozen heap would stall the loop
    gc.unfreeze()
    monkeypatch.setattr(gctracker, "frozen_objects", 0)
    count_frozen = gc.get_freeze_count

    def walk():
        raise AssertionError("walked every frozen object")

    monkeypatch.setattr(gc, "get_freeze_count", walk)
    try:
        # when: the start-up freeze, then a periodic one after new objects
        at_start = gctracker.freeze(full_collect=True)
        new_objects = [[i] for i in range(5000)]
        later = gctracker.freeze(full_collect=False)
        frozen = count_frozen()
    finally:
        gc.unfreeze()

    # then: each freeze counted what it moved (give or take what another
    # thread allocated in between), and the gauge shows it
    assert frozen - 5 <= later <= frozen
    assert later - at_start >= len(new_objects)
    gctracker.install()
    assert REGISTRY.get_sample_value("csms_gc_frozen_objects") == later
