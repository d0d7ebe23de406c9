"""Shared test set-up: service requirements, factories and common objects.

Each external dependency has a marker. Locally a missing dependency skips its tests with
the reason; in CI (CI=true) the same absence fails them, because CI must prove them.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when a required service or file is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def pytest_sessionstart(session) -> None:
    if IN_CI and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("CI runs the suite on PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    if request.node.get_closest_marker("postgres"):
        require(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                "needs PostgreSQL: set DATABASE_URL=postgres://...")
