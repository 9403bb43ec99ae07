"""The Redis cache: one client per connection pool, not one per call."""

import pytest
from django.core.cache import caches

from csms import settings as settings_module

pytestmark = pytest.mark.skipif(
    not settings_module.REDIS_URL, reason="no Redis configured"
)


def test_cache_calls_share_one_redis_client(settings, monkeypatch):
    # given
    import redis

    location = settings_module.REDIS_URL.rsplit("/", 1)[0] + "/15"
    settings.CACHES = {
        "default": {"BACKEND": "csms.cache.RedisCache", "LOCATION": location}
    }
    built = []
    original_init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting_init)
    backend = caches["default"]

    # when
    for n in range(20):
        backend.set(f"cache-test-{n}", n)
    values = [backend.get(f"cache-test-{n}") for n in range(20)]

    # then
    assert values == list(range(20))
    assert len(built) == 1
