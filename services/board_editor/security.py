"""Who is asking: the signed session (local login) or the reverse proxy's header; CSRF tokens.

* Local login: the session cookie (signed, ``Secure``, ``HttpOnly``, ``SameSite=Strict``) holds
  the user name, a random session id, login time, last-seen time and the CSRF token. A session
  idle for longer than ``session_idle_minutes`` or older than ``session_max_hours`` is dropped,
  and so is one whose id the server no longer holds as live (:mod:`.sessions`: logged out, or
  the password was reset since).
* Proxy: the user header is believed only on a connection from one of ``trusted_proxies``; any
  other peer gets 403 whatever headers it sends. The session still carries the CSRF token and
  is reset when the header names someone else.
* Roles come from the users file on every request, so removing a writer takes effect at once.
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request

from .accounts import Account, load_accounts
from .sessions import SessionStore
from .settings import EditorSettings

CSRF_FIELD = "csrf_token"


class NotAllowed(Exception):
    """403 with a Swedish message."""


class LoginNeeded(Exception):
    """Redirect to the login page (local mode); ``reason`` (one of :func:`login_reasons`) is shown there."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    account: Account
    client: str  # for the audit trail


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


def from_trusted_proxy(request: Request, settings: EditorSettings) -> bool:
    try:
        address = ipaddress.ip_address(_peer(request))
    except ValueError:
        return False
    return any(address in network for network in settings.proxy_networks())


def client_address(request: Request, settings: EditorSettings) -> str:
    """The peer, or, behind a trusted proxy, the address the proxy says it served (the last
    X-Forwarded-For entry: the one that proxy appended itself)."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and from_trusted_proxy(request, settings):
        return forwarded.split(",")[-1].strip()[:64]
    return _peer(request)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, str(submitted)):
        raise NotAllowed("Formuläret kunde inte kontrolleras (säkerhetstoken saknas eller är gammal). "
                         "Ladda om sidan och försök igen.")


def start_session(request: Request, name: str, sessions: SessionStore | None = None,
                  account: Account | None = None) -> None:
    """A fresh session for ``name``: a new CSRF token, so one from before login is worthless.
    With ``sessions`` (local login) it is also recorded as live on the server."""
    now = int(time.time())
    request.session.clear()
    request.session.update({"user": name, "login_at": now, "seen": now, "csrf": secrets.token_urlsafe(32)})
    if sessions is not None:
        request.session["sid"] = sessions.start(name, account.password_hash if account else None, now)


def end_session(request: Request, sessions: SessionStore | None) -> None:
    """Log out: the session stops being live on the server, so a copy of the cookie is refused."""
    sid = request.session.get("sid")
    if sessions is not None and sid:
        sessions.end(str(sid))
    request.session.clear()


IDLE = "Du har loggats ut efter {minutes} minuter utan aktivitet."
EXPIRED = "Inloggningen har gått ut. Logga in igen."
GONE = "Kontot finns inte längre."


def login_reasons(settings: EditorSettings) -> frozenset[str]:
    """The only words the login page shows from its ``orsak`` parameter: anything else in a link
    ("Ring IT-supporten på 08-…") would be a message in the app's own voice from whoever sent it."""
    return frozenset({IDLE.format(minutes=settings.session_idle_minutes), EXPIRED, GONE})


def identify(request: Request, settings: EditorSettings, sessions: SessionStore | None = None) -> Identity:
    accounts = load_accounts(settings.users_file)
    client = client_address(request, settings)
    if settings.auth == "proxy":
        if not from_trusted_proxy(request, settings):
            raise NotAllowed("Tjänsten nås bara via kommunens inloggning.")
        name = (request.headers.get(settings.proxy_user_header) or "").strip()
        if not name:
            raise NotAllowed("Inloggningen skickade ingen användare.")
        account = accounts.get(name)
        if account is None:
            raise NotAllowed(f"{name} har inte behörighet till nämndrapporten. Kontakta förvaltningens "
                             "systemförvaltare.")
        if request.session.get("user") != name:
            start_session(request, name)
        return Identity(account, client)

    session = request.session
    name = session.get("user")
    if not name:
        raise LoginNeeded()
    now = int(time.time())
    if now - int(session.get("seen", 0)) > settings.session_idle_minutes * 60:
        session.clear()
        raise LoginNeeded(IDLE.format(minutes=settings.session_idle_minutes))
    if now - int(session.get("login_at", 0)) > settings.session_max_hours * 3600:
        session.clear()
        raise LoginNeeded(EXPIRED)
    account = accounts.get(name)
    if account is None:
        session.clear()
        raise LoginNeeded(GONE)
    if sessions is None or not sessions.is_live(session.get("sid"), name, account.password_hash):
        session.clear()  # logged out (this is a copy of the cookie), or the password was reset
        raise LoginNeeded()
    session["seen"] = now
    return Identity(account, client)
