"""Django's Redis cache, minus a new client object per call.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` on every
cache call (50 us of CPU with redis-py 8, more than a third of a GET's round
trip here); requests call the cache for the throttle's counter and the API
key's record. One client per connection pool does: redis-py's clients are
thread-safe and hold nothing but the pool.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients_by_pool: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients_by_pool.get(id(pool))
        if client is None:
            client = self._clients_by_pool[id(pool)] = self._client(
                connection_pool=pool
            )
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
