"""Throttles of the API: etiquette against runaway scripts, not limits (quotas live in the services).

DRF's own classes read their rates once, at import; these read ``DEFAULT_THROTTLE_RATES`` on each
request, so a deployment (or a test) can change them through the settings.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class _CurrentRates:
    def get_rate(self):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate or None


class AnonymousRateThrottle(_CurrentRates, AnonRateThrottle):
    """Requests without a session or token, per client address ("anon")."""


class PersonRateThrottle(_CurrentRates, UserRateThrottle):
    """Every request of one signed-in person, whichever token or session it uses ("user"). Anonymous requests
    are the "anon" rate's alone (DRF's class would count them again, by address, at this rate)."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ScopeRateThrottle(_CurrentRates, ScopedRateThrottle):
    """Requests to views naming a ``throttle_scope`` (e.g. "submissions"), per person."""
