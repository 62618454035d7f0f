"""The cache fails open, except for what guards sign-in, which fails closed.

Redis down must not take the portal down: sessions live in the database, and a cache
read that fails answers "nothing cached" (a write that fails is skipped), with a log
line. But the keys that count sign-in attempts and used one-time codes (allauth's rate
limits, TOTP replay) must not be skipped: for them a failure raises `CacheUnavailable`,
and the request is answered 503 ("réessayez dans un instant") instead of letting an
unlimited number of guesses through.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# allauth's rate limits ("allauth:rl:…") and used TOTP codes ("allauth.mfa.totp.used…").
FAIL_CLOSED_PREFIXES = ("allauth",)


class CacheUnavailable(Exception):
    """A security counter could not be read or written: refuse rather than guess."""


class FailOpenRedisCache(RedisCache):
    def _guard(self, key, default, call):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 — redis.ConnectionError, TimeoutError…
            if str(key).startswith(FAIL_CLOSED_PREFIXES):
                raise CacheUnavailable(f"cache unavailable for {str(key).split(':')[0]}: {error}") from error
            logger.warning("cache unavailable (%s): %s — answered without it", key, error.__class__.__name__)
            return default

    def get(self, key, default=None, version=None):
        return self._guard(key, default, lambda: super(FailOpenRedisCache, self).get(key, default, version))

    def set(self, key, value, timeout=None, version=None):
        return self._guard(key, None, lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version))

    def add(self, key, value, timeout=None, version=None):
        return self._guard(key, False, lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version))

    def delete(self, key, version=None):
        return self._guard(key, False, lambda: super(FailOpenRedisCache, self).delete(key, version))

    def incr(self, key, delta=1, version=None):
        # Failing open here means "no count": ValueError is what callers expect of a missing key.
        try:
            return super().incr(key, delta, version)
        except ValueError:
            raise
        except Exception as error:  # noqa: BLE001
            if str(key).startswith(FAIL_CLOSED_PREFIXES):
                raise CacheUnavailable(str(error)) from error
            logger.warning("cache unavailable (%s): %s", key, error.__class__.__name__)
            raise ValueError(key) from error
