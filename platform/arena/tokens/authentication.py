"""DRF authentication by personal API token: ``Authorization: Token <token>`` (or ``Bearer``)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from arena.tokens.services import TokenRejected, api_token_authenticate, tokens_page_url

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates a request carrying a personal API token; other requests pass to the next class.

    ``request.auth`` is the ``ApiToken`` used. Requests authenticated this way need no CSRF token:
    a browser never sends the header on its own.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Token arena_…' (one word after 'Token'); "
                f"create one at {tokens_page_url()}.", code="token_malformed")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("An API token holds ASCII characters only.",
                                                  code="token_malformed") from None
        try:
            token = api_token_authenticate(raw=raw)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
