"""A task that ends after the broker connection its message came on is gone must not stop the worker.

Each case sends a real task message to a real Redis and receives it as a worker does (unacknowledged,
held in the broker's unacked index), then ends it the way the worker does, with ``ack_log_error`` or
``reject_log_error`` and the connection's errors. The broker-outage scenario of ``test_faults`` once
stopped its worker this way: the acknowledgement of a task that finished across the reconnection raised
``AttributeError`` from kombu's Redis transport, and the worker died with it.
"""

from __future__ import annotations

import logging
import shutil

import pytest

from arena.config.broker import REDIS_TRANSPORT
from arena.config.broker.redis_transport import connection_gone
from arena.config.celery import app
from tests.conftest import require
from tests.faults.servers import RedisServer

pytestmark = pytest.mark.faults

PLATFORM = REDIS_TRANSPORT
KOMBU = "kombu.transport.redis:Transport"
LOGGER = "arena.config.broker.redis_transport"
log = logging.getLogger("worker")


@pytest.fixture
def redis(tmp_path):
    require(shutil.which("redis-server") is not None, "needs redis-server")
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.close()


def held(redis: RedisServer, transport: str):
    """A connection and the message it received, as a worker holds them while the task runs."""
    with app.connection_for_write(redis.url, transport=transport) as conn:
        app.send_task("arena.submissions.tasks.score_submission", args=(7, None), queue="score", connection=conn)
    conn = app.connection_for_read(redis.url, transport=transport)
    message = app.amqp.queues["score"](conn.default_channel).get(no_ack=False, accept=["json"])
    assert message is not None
    return conn, message


def broker_counts(redis: RedisServer) -> tuple[int, int]:
    """(messages waiting in the score queue, messages delivered and not acknowledged)."""
    with app.connection_for_read(redis.url) as conn:
        client = conn.default_channel.client
        return client.llen("score"), client.hlen("unacked")


def let_go(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def lose_the_connection(conn, message) -> None:
    """The state the outage left in the stopped worker's traceback: the channel's connection pools
    disconnected and its transport's connection cleared, while the channel still points at the transport."""
    message.channel._disconnect_pools()
    conn._do_close_transport()
    message.channel.qos.restore_at_shutdown = False  # or kombu's exit hook fails on the same state


def test_a_task_on_a_live_connection_is_acknowledged_at_the_broker(redis):
    conn, message = held(redis, PLATFORM)
    try:
        assert type(message.channel).__module__ == LOGGER
        assert broker_counts(redis) == (0, 1)
        assert not connection_gone(message.channel)
        message.ack_log_error(log, conn.connection_errors)
        assert message.acknowledged
        assert broker_counts(redis) == (0, 0)
    finally:
        conn.release()


def test_a_task_rejected_on_a_live_connection_goes_back_to_its_queue(redis):
    conn, message = held(redis, PLATFORM)
    try:
        message.reject_log_error(log, conn.connection_errors, requeue=True)
        assert broker_counts(redis) == (1, 0)
    finally:
        conn.release()


def test_kombus_own_transport_raises_what_stopped_the_worker(redis):
    conn, message = held(redis, KOMBU)
    lose_the_connection(conn, message)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'hostname'"):
        message.ack_log_error(log, conn.connection_errors)


def test_acknowledging_after_the_connection_is_gone_lets_the_message_go(redis, caplog):
    conn, message = held(redis, PLATFORM)
    lose_the_connection(conn, message)
    assert connection_gone(message.channel)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        message.ack_log_error(log, conn.connection_errors)
    assert message.acknowledged
    assert let_go(caplog) == [
        f"message {message.delivery_tag} not acknowledged: the broker connection it came on is gone; "
        "the broker lost it or delivers it again"
    ]
    # Nothing reached the broker: the message stays delivered-but-unacknowledged, for the broker to restore.
    assert broker_counts(redis) == (0, 1)


def test_rejecting_after_the_connection_is_gone_lets_the_message_go(redis, caplog):
    conn, message = held(redis, PLATFORM)
    lose_the_connection(conn, message)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        message.reject_log_error(log, conn.connection_errors, requeue=True)
    assert [f"message {message.delivery_tag} not rejected: " in m for m in let_go(caplog)] == [True]
    assert broker_counts(redis) == (0, 1)


def test_a_connection_closed_by_the_worker_restores_its_messages_and_lets_their_tasks_end(redis, caplog):
    conn, message = held(redis, PLATFORM)
    conn.close()  # a reconnecting worker closes the old connection: kombu puts what it held back in the queue
    assert broker_counts(redis) == (1, 0)
    assert connection_gone(message.channel)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        message.ack_log_error(log, conn.connection_errors)
    assert [" not acknowledged: " in m for m in let_go(caplog)] == [True]
    assert broker_counts(redis) == (1, 0)  # the restored message waits for its redelivery, untouched
