"""How the platform reaches its Celery broker: through kombu's transports, but its own for Redis."""

from __future__ import annotations

REDIS_TRANSPORT = "arena.config.broker.redis_transport:Transport"


def transport_for(url: str) -> str | None:
    """The kombu transport for a broker URL (Celery's ``broker_transport``); None: kombu's, by the scheme.

    Whatever points the Celery app at another broker sets both, the URL and this transport.
    """
    return REDIS_TRANSPORT if url.startswith(("redis://", "rediss://")) else None
