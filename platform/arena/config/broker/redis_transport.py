"""kombu's Redis transport, but a message whose broker connection is gone is not acknowledged on it.

Every task acknowledges late. When Redis goes away while tasks run, the worker reconnects, and the
acknowledgements of tasks that ended meanwhile run on the new connection's event loop (some while it
restarts), but each still goes through the channel its message came on. That channel's connection is
gone: kombu's Redis transport then raises ``AttributeError`` (its connection's ``client`` is None), which
is not a connection error, so nothing catches it and the worker stops. Nothing was scored until someone
restarted it.

A message whose connection is gone cannot be acknowledged or rejected any more: the broker either lost it
(a Redis with nothing on disk) or hands it out again. Either way nothing is lost or done twice: a message
whose task ended carries a claim token that is no longer current, so its redelivery (or the outbox's
re-send) finds nothing to do; a submission whose scoring did not end is taken back by the reconciler once
its lease runs out.
"""

from __future__ import annotations

import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


def connection_gone(channel: redis.Channel) -> bool:
    """Whether the channel no longer has a connection to its broker: closed, or its transport's closed."""
    transport = channel.connection
    return channel.closed or transport is None or transport.client is None


class Channel(redis.Channel):
    def basic_ack(self, delivery_tag, multiple=False):
        if connection_gone(self):
            _let_go(delivery_tag, "acknowledged")
            return
        super().basic_ack(delivery_tag, multiple=multiple)

    def basic_reject(self, delivery_tag, requeue=False):
        if connection_gone(self):
            _let_go(delivery_tag, "rejected")
            return
        super().basic_reject(delivery_tag, requeue=requeue)


def _let_go(delivery_tag, verb: str) -> None:
    logger.warning(
        "message %s not %s: the broker connection it came on is gone; the broker lost it or delivers it again",
        delivery_tag, verb,
    )


class Transport(redis.Transport):
    Channel = Channel
