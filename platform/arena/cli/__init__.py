"""``arena``: the command-line client of an AffectArena site.

It speaks HTTP to the site's REST API (``/api/v1/``) and imports nothing but the standard
library and ``requests``: it runs anywhere a participant has Python, without Django.
"""

__version__ = "1.0.0"
