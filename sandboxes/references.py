"""Image references and registry allowlists (pure: no engine needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sandboxes.errors import SandboxError

DEFAULT_REGISTRY = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"  # noqa: E501
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference: `registry/path[:tag][@digest]`, with Docker Hub spelled out
    (`python` is `docker.io/library/python`)."""

    registry: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """`registry/path`, what an allowlist entry is compared with."""
        return f"{self.registry}/{self.path}"


def _looks_like_domain(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def parse_reference(reference: str) -> ImageReference:
    """Parse an image reference; SandboxError when it is not one.

    >>> parse_reference("python:3.11").name
    'docker.io/library/python'
    >>> parse_reference("ghcr.io/team/model@sha256:" + "a" * 64).digest[:9]
    'sha256:aa'
    """
    text = reference.strip()
    first = text.split("/", 1)[0]
    if "/" in text and not _looks_like_domain(first):
        text = f"{DEFAULT_REGISTRY}/{text}"
    elif "/" not in text:
        text = f"{DEFAULT_REGISTRY}/{text}"
    match = _REFERENCE.match(text)
    if match is None or not match.group("domain"):
        raise SandboxError(f"{reference!r} is not an image reference like registry/name:tag.")
    registry = match.group("domain").lower()
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DEFAULT_REGISTRY
    path = match.group("path")
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return ImageReference(registry, path, match.group("tag"), match.group("digest"))


def _entry_name(entry: str) -> str:
    """An allowlist entry as a `registry[/path]` prefix."""
    text = entry.strip().rstrip("/")
    first, _, rest = text.partition("/")
    if _looks_like_domain(first):
        registry = first.lower()
        if registry in ("index.docker.io", "registry-1.docker.io"):
            registry = DEFAULT_REGISTRY
        # A registry's path prefix (`docker.io/library`) is taken as written.
        return f"{registry}/{rest}" if rest else registry
    return parse_reference(text).name


def is_allowed(reference: ImageReference, allowlist: Sequence[str]) -> bool:
    """True when the reference's `registry/path` is an entry of `allowlist` or lies under one.

    Entries are registries (`ghcr.io`), or repository prefixes (`ghcr.io/team`,
    `docker.io/library/python`); prefixes match whole path components only.

    >>> is_allowed(parse_reference("ghcr.io/team/m:1"), ["ghcr.io/team"])
    True
    >>> is_allowed(parse_reference("ghcr.io/teamx/m:1"), ["ghcr.io/team"])
    False
    """
    name = reference.name
    for entry in allowlist:
        if not entry.strip():
            continue
        prefix = _entry_name(entry)
        if name == prefix or name.startswith(prefix + "/"):
            return True
    return False
