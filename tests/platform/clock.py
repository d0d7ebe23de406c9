"""A clock the tests move by hand: ``django.utils.timezone.now`` answers its time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone


class Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Frozen at the real time when the test starts; ``clock.advance(hours=2)`` moves it."""
    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen
