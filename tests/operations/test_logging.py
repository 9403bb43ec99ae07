import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.operations.urls")]


@pytest.fixture
def json_log():
    """The console handler of settings.LOGGING in its JSON form, into a buffer."""
    config = settings.LOGGING
    configurator = logging.config.DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        configurator.configure_formatter(dict(config["formatters"]["json"]))
    )
    handler.addFilter(
        configurator.configure_filter(dict(config["filters"]["request_id"]))
    )
    logger = logging.getLogger("tests.operations")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_json_log_lines_carry_the_request_id(client, json_log):
    # when
    response = client.get("/test-api/log/", headers={"X-Request-ID": "req-log-1"})

    # then
    assert response.status_code == 200
    line = json.loads(json_log.getvalue().strip().splitlines()[-1])
    assert line["message"] == "hello from the view"
    assert line["request_id"] == "req-log-1"
    assert line["levelname"] == "WARNING"
    assert line["name"] == "tests.operations"


def test_log_lines_outside_a_request_have_a_placeholder_id(json_log):
    logging.getLogger("tests.operations").warning("no request here")

    line = json.loads(json_log.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "-"
