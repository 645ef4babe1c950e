"""The cache may fail; the pages may not (issue 7: « Redis arrêté → les pages et les
formulaires continuent de fonctionner »).

Two layers, so that an unreachable cache costs at most a short timeout and a log line:

- `ResilientRedisCache`, the backend chosen by the settings when `CACHE_URL` is a Redis URL:
  Django's Redis backend with short socket timeouts, whose reads answer « absent » and whose
  writes are dropped (logged) while Redis fails; after a failure the process leaves Redis
  alone for RETRY_SECONDS, so that a Redis host that stopped answering costs one timeout,
  not one per cache call.
- `get_or_compute`, through which the code reads computed values: whatever the backend
  raises, the value is computed and returned uncached (logged), never a 500.

Nothing correctness-critical lives only in the cache: what is cached here is recomputed from
the database when absent.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# Seconds before a Redis call gives up (connecting, then each command): a page waits this
# long at most per cache call while Redis is down.
SOCKET_TIMEOUT = 0.5
# After a failure, calls skip Redis (answer « absent ») for this many seconds.
RETRY_SECONDS = 5

_MISSING = object()


def get_or_compute(
    key: str,
    compute: Callable[[], Any],
    timeout: int | None,
    *,
    keep: Callable[[Any], bool] | None = None,
) -> Any:
    """The value cached under `key`, else `compute()` stored for `timeout` seconds (unless
    `keep(value)` is false: a provisional value). A cache error is logged and the value
    computed (and not stored)."""
    try:
        value = cache.get(key, _MISSING)
    except Exception:
        logger.warning("Cache unreadable, computing %s without it", key, exc_info=True)
        return compute()
    if value is not _MISSING:
        return value
    value = compute()
    if keep is not None and not keep(value):
        return value
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("Cache unwritable, %s not stored", key, exc_info=True)
    return value


def add(key: str, value: Any, timeout: int | None) -> bool:
    """`cache.add`, True when the cache fails (the caller proceeds as if it were first)."""
    try:
        return cache.add(key, value, timeout)
    except Exception:
        logger.warning("Cache unwritable, %s not added", key, exc_info=True)
        return True


def delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("Cache unwritable, %s not deleted", key, exc_info=True)


def _redis_error() -> type[Exception]:
    import redis

    # Connection refused or lost, timeouts, but also a server that answers wrongly (out of
    # memory, read-only replica, not Redis at all): for a cache, all mean « absent ».
    return redis.exceptions.RedisError


def _tolerant(name: str, fallback: Callable[..., Any]):
    def method(self, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback(*args, **kwargs)
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except _redis_error():
            self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning(
                "Redis unreachable (%s): cache %s skipped, and the cache for %s s",
                self._servers,
                name,
                RETRY_SECONDS,
                exc_info=True,
            )
            return fallback(*args, **kwargs)

    method.__name__ = name
    return method


def _default(_key, default=None, *args, **kwargs):
    return default


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that behaves as an empty cache while Redis is unreachable:
    `get` returns its default, `add` True, writes are dropped; each call waits at most
    SOCKET_TIMEOUT (overridable in OPTIONS)."""

    def __init__(self, server, params):
        params = {**params, "OPTIONS": dict(params.get("OPTIONS") or {})}
        params["OPTIONS"].setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        params["OPTIONS"].setdefault("socket_timeout", SOCKET_TIMEOUT)
        super().__init__(server, params)
        self._down_until = 0.0

    get = _tolerant("get", _default)
    get_many = _tolerant("get_many", lambda *args, **kwargs: {})
    has_key = _tolerant("has_key", lambda *args, **kwargs: False)
    set = _tolerant("set", lambda *args, **kwargs: None)
    add = _tolerant("add", lambda *args, **kwargs: True)
    touch = _tolerant("touch", lambda *args, **kwargs: False)
    set_many = _tolerant("set_many", lambda data, *args, **kwargs: list(data))
    delete = _tolerant("delete", lambda *args, **kwargs: False)
    delete_many = _tolerant("delete_many", lambda *args, **kwargs: None)
    clear = _tolerant("clear", lambda *args, **kwargs: False)
