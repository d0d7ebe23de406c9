"""Development and demo settings: a working site with nothing configured."""

from arena.config.env import env_bool

from .base import *  # noqa: F403
from .base import SECRET_KEY as _SECRET_KEY

DEBUG = env_bool("DJANGO_DEBUG", True)
# A fixed key is fine for a local site; production refuses to start without one.
SECRET_KEY = _SECRET_KEY or "local-only-insecure-key-do-not-use-in-production"
