"""The one exception type of the sandbox package."""

from __future__ import annotations


class SandboxError(Exception):
    """A refused image, a failed build or an engine that cannot run a sandbox.

    `message` is written for the person who submitted the image or operates the worker; it
    never holds a stack trace.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
