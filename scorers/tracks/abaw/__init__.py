"""ABAW tracks; importing this package registers all of them."""

from scorers.tracks.abaw import affwild, compound, hesitancy, mimicry  # noqa: F401
