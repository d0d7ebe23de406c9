#!/usr/bin/env python
"""Django's command-line utility for AffectArena."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ holds the `arena` package; it is a plain folder so that it never
    # shadows the standard library's `platform` module.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
