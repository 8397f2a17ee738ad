"""Cross-site request forgery protection of the pages' forms.

A page carries its API key in the URL (a browser cannot send a header), so the key alone must
not be enough for a form to change a ring: a key leaks through browser history, shared links
and logs. Every page therefore runs in a *session*: a random id in a cookie that is HTTP-only
and ``SameSite=Strict`` (a browser never sends it with a request another site starts). Each
form holds a token that itsdangerous signs with the app's secret over the session id and a
digest of the key; a POST is accepted only when its token is genuine, recent, made for the
session whose cookie came with it, and for the key it is sent with. A page of another site
can neither read the token nor make the browser send the cookie, and a token copied from one
session or key is refused in any other.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import HTTPException, Request, Response, status
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "graphfraud_session"
TOKEN_FIELD = "csrf_token"
#: A form older than a working day must be reloaded before it is sent.
TOKEN_MAX_AGE_S = 12 * 3600


class CsrfGuard:
    """Issues and checks the form tokens of page sessions.

    Parameters
    ----------
    secret
        The signing secret; one per app (tokens made before a restart are refused after it,
        and the page then only needs a reload).
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="forms")

    @staticmethod
    def new_session() -> str:
        """A new session id."""
        return secrets.token_urlsafe(24)

    @staticmethod
    def keep_session(response: Response, session: str) -> None:
        """Have the browser keep ``session`` (for as long as it runs) and send it only with
        requests this site starts."""
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", path="/")

    def token(self, session: str, key: str) -> str:
        """The form token of ``session`` for API key ``key``."""
        return self._signer.dumps([session, _digest(key)])

    def check(self, request: Request, token: str | None, key: str) -> None:
        """Accept a form sent with ``key``, or refuse it with a 403 saying why."""
        session = request.cookies.get(SESSION_COOKIE)
        if not session or not token:
            raise _refused("the form came without its session; reload the page and send it again")
        try:
            made_for = self._signer.loads(token, max_age=TOKEN_MAX_AGE_S)
        except BadSignature as error:
            raise _refused(
                "the form's token is not valid or has expired; reload the page"
            ) from error
        if made_for != [session, _digest(key)]:
            raise _refused("the form's token was made for another session or key; reload the page")


def _digest(key: str) -> str:
    # Only a digest of the key goes into the token: a token may end up in a page's source.
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _refused(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"form refused: {reason}")
