"""Image references and the pull allowlist (no engine needed)."""

from __future__ import annotations

import pytest

from sandboxes import SandboxError, pull_image
from sandboxes.references import ImageReference, is_allowed, parse_reference

DIGEST = "sha256:" + "0f" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python", ImageReference("docker.io", "library/python", None, None)),
        ("python:3.11-slim", ImageReference("docker.io", "library/python", "3.11-slim", None)),
        ("team/model:v2", ImageReference("docker.io", "team/model", "v2", None)),
        ("index.docker.io/team/model", ImageReference("docker.io", "team/model", None, None)),
        ("ghcr.io/org/sub/model:1.0", ImageReference("ghcr.io", "org/sub/model", "1.0", None)),
        ("localhost:5000/m@" + DIGEST, ImageReference("localhost:5000", "m", None, DIGEST)),
        ("Registry.Example.com/m:1", ImageReference("registry.example.com", "m", "1", None)),
    ],
)
def test_references_are_parsed_with_docker_hub_spelled_out(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text", ["", "ghcr.io/Org/model", "ghcr.io/org/model:", "a b", "ghcr.io/m@sha256:12", "../x"]
)
def test_malformed_references_are_refused(text):
    with pytest.raises(SandboxError) as caught:
        parse_reference(text)
    assert caught.value.message == f"{text!r} is not an image reference like registry/name:tag."


@pytest.mark.parametrize(
    ("reference", "allowlist", "allowed"),
    [
        ("ghcr.io/team/model:1", ["ghcr.io"], True),
        ("ghcr.io/team/model:1", ["ghcr.io/team"], True),
        ("ghcr.io/team/model:1", ["ghcr.io/team/"], True),
        ("ghcr.io/team/model:1", ["ghcr.io/team/model"], True),
        ("ghcr.io/teamx/model:1", ["ghcr.io/team"], False),
        ("ghcr.io.evil.net/team/model", ["ghcr.io"], False),
        ("evil.net/ghcr.io/team/model", ["ghcr.io"], False),
        ("python:3.11", ["python"], True),
        ("python:3.11", ["docker.io/library"], True),
        ("pythonista/python:3.11", ["python"], False),
        ("registry.local:5000/m:1", ["registry.local"], False),
        ("registry.local:5000/m:1", ["registry.local:5000"], True),
        ("ghcr.io/team/model:1", [], False),
        ("ghcr.io/team/model:1", ["", "  "], False),
    ],
)
def test_allowlist_matches_registries_and_whole_path_prefixes(reference, allowlist, allowed):
    assert is_allowed(parse_reference(reference), allowlist) is allowed


class _NoEngine:
    """A client that fails the test if the runner talks to the engine at all."""

    def __getattr__(self, name):
        raise AssertionError(f"the engine was used ({name}) for a refused reference")


def test_a_reference_off_the_allowlist_is_refused_before_any_pull():
    with pytest.raises(SandboxError) as caught:
        pull_image("docker.io/evil/miner:latest", allowlist=["ghcr.io/team"], client=_NoEngine())
    assert caught.value.message == (
        "Images from docker.io/evil/miner are not accepted here; allowed registries and "
        "repositories: ghcr.io/team."
    )
    with pytest.raises(SandboxError) as caught:
        pull_image("ghcr.io/team/model:1", allowlist=[], client=_NoEngine())
    assert caught.value.message.endswith("allowed registries and repositories: none.")
