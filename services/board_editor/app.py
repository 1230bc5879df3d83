"""The editor's routes. Pages are server-rendered; every form posts back with a CSRF token.

    GET  /                                   months
    GET  /logga-in, POST /logga-in, POST /logga-ut      local accounts only
    GET  /manad/{m}          the computed draft and the office's text     (reader, writer)
    POST /manad/{m}          save the text against the version read       (writer)
    GET  /manad/{m}/forhandsgranskning     exactly the page the PDF is made from
    POST /manad/{m}/frys     freeze the saved text as the next revision   (writer)
    GET  /manad/{m}/revision/{n}[/{file}]  what changed; the files
    GET  /manad/{m}/logg     the month's audit trail
"""
from __future__ import annotations

import logging
import math
import re
import secrets
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from services.snapshot.figures import Month
from services.snapshot.freeze import HTML_FILE, PDF_FILE, XLSX_FILE
from streams.core.timeutil import STOCKHOLM

from . import views
from .accounts import load_accounts, verify_login
from .audit import AuditEntry, AuditLog
from .drafts import DraftStore, StaleDraft, check_month, problems
from .report import ReportError, ReportSource
from .security import (CSRF_FIELD, Identity, LoginNeeded, NotAllowed, check_csrf, client_address, csrf_token,
                       end_session, identify, login_reasons, start_session)
from .sessions import SessionStore
from .settings import EditorSettings
from .throttle import LoginThrottle

log = logging.getLogger("casewatch.board")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
HERE = Path(__file__).parent
DOWNLOADS = {HTML_FILE: "text/html; charset=utf-8", PDF_FILE: "application/pdf",
             XLSX_FILE: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# No script anywhere; inline styles only in the report preview, which is one self-contained page.
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def request_id(request: Request) -> str:
    """The caller's X-Request-ID when it is a plain token (a proxy's, to follow a request
    through both logs), else a fresh one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _now() -> str:
    return datetime.now(STOCKHOLM).isoformat(timespec="seconds")


def create_app(settings: EditorSettings, report: ReportSource | None = None,
               throttle: LoginThrottle | None = None) -> Starlette:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(views.FILTERS)
    env.globals.update(views.GLOBALS)
    drafts = DraftStore(settings.data_dir)
    audit = AuditLog(settings.data_dir)
    report = report or ReportSource(settings, drafts)
    throttle = throttle or LoginThrottle()
    sessions = SessionStore(settings.data_dir, settings.session_max_hours * 3600) if settings.auth == "local" else None
    load_accounts(settings.users_file)  # a broken users file fails at start, not at first login

    def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        context.update(request=request, csrf_field=CSRF_FIELD, csrf=csrf_token(request),
                       user=getattr(request.state, "identity", None), auth=settings.auth,
                       autosave_ms=int(settings.autosave_seconds * 1000))
        return HTMLResponse(env.get_template(template).render(**context), status_code=status)

    def who(request: Request, write: bool = False) -> Identity:
        identity = identify(request, settings, sessions)
        request.state.identity = identity
        if write and not identity.account.can_write:
            raise NotAllowed("Du har läsbehörighet och kan inte ändra eller frysa rapporten.")
        return identity

    def month_of(request: Request) -> str:
        try:
            return str(Month.parse(check_month(request.path_params["month"])))
        except ValueError:
            raise HTTPException(404) from None

    def record(request: Request, identity: Identity, action: str, outcome: str, month: str, **extra) -> None:
        audit.append(AuditEntry(at=_now(), actor=identity.account.name, action=action, outcome=outcome,
                                client=identity.client, request_id=request_id(request), month=month, **extra))

    async def home(request: Request) -> Response:
        who(request)
        try:
            months = report.months()
        except ReportError as exc:
            return page(request, "error.html", 503, message=str(exc))
        months = sorted(set(months) | set(drafts.months()), reverse=True)
        rows = [{"month": m, "draft": drafts.load(m), "latest": report.store.latest(m)} for m in months]
        return page(request, "index.html", rows=rows)

    async def login_form(request: Request) -> Response:
        if settings.auth != "local":
            return RedirectResponse("/", 303)
        reason = request.query_params.get("orsak", "")
        return page(request, "login.html", reason=reason if reason in login_reasons(settings) else "")

    async def login(request: Request) -> Response:
        if settings.auth != "local":
            raise HTTPException(404)
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        name = str(form.get("anvandare", "")).strip()
        client = client_address(request, settings)
        wait = throttle.retry_after(client, name)
        if wait:
            log.info("login refused without a password check: too many failures (from %s)", client)
            minutes = math.ceil(wait / 60)
            response = page(request, "login.html", 429, name=name,
                            error=f"För många misslyckade inloggningar. Försök igen om {minutes} "
                                  f"{'minut' if minutes == 1 else 'minuter'}.")
            response.headers["Retry-After"] = str(wait)
            return response
        account = verify_login(load_accounts(settings.users_file), name, str(form.get("losenord", "")))
        if account is None:
            throttle.failed(client, name)
            log.info("login refused for a user name from %s", client)
            return page(request, "login.html", 401, error="Fel användarnamn eller lösenord.", name=name)
        throttle.succeeded(name)
        start_session(request, account.name, sessions, account)
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        end_session(request, sessions)
        return RedirectResponse("/logga-in" if settings.auth == "local" else "/", 303)

    def month_page(request, identity, month, draft, status=200, errors=None, notice=None, stale=None):
        content = report.computed(month)
        return page(request, "month.html", status, month=month, content=content, shown=report.published(month),
                    draft=draft,
                    saved=drafts.load(month), errors=errors or {}, notice=notice, stale=stale,
                    can_write=identity.account.can_write, revisions=report.revisions(month),
                    computed=report.computed_colours(content))

    async def show_month(request: Request) -> Response:
        identity = who(request)
        month = month_of(request)
        notice = {"sparad": "Utkastet är sparat."}.get(request.query_params.get("klart", ""))
        try:
            return month_page(request, identity, month, drafts.load(month), notice=notice)
        except ReportError as exc:
            return page(request, "error.html", 503, message=str(exc))

    async def submitted_draft(request: Request, action: str):
        """The month's draft from the posted form, checked and saved: ``(identity, month, draft,
        outcome)`` with outcome ``("saved", saved)``, ``("invalid", errors)`` or ``("stale", current)``."""
        identity = who(request, write=True)
        month = month_of(request)
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        draft = views.draft_from_form(month, form)
        try:
            expected = int(form.get("version", "-1"))
        except ValueError:
            expected = -1
        computed = report.computed_colours(report.computed(month))
        draft.areas = {k: v for k, v in draft.areas.items() if k in computed}  # only the board's goal areas
        errors = problems(draft, computed)
        if errors:
            if action == "draft.save":  # an autosave of a half-written draft changes nothing worth a line
                record(request, identity, action, "invalid", month, version=expected)
            return identity, month, draft, ("invalid", errors)
        try:
            saved = drafts.save(draft, expected, identity.account.name, _now())
        except StaleDraft as exc:
            record(request, identity, action, "stale", month, version=expected)
            return identity, month, draft, ("stale", exc.current)
        record(request, identity, action, "saved", month, version=saved.version)
        return identity, month, draft, ("saved", saved)

    async def save_month(request: Request) -> Response:
        identity, month, draft, (outcome, detail) = await submitted_draft(request, "draft.save")
        if outcome == "invalid":
            return month_page(request, identity, month, draft, 422, errors=detail)
        if outcome == "stale":
            return month_page(request, identity, month, draft, 409, stale=detail)
        return RedirectResponse(f"/manad/{month}?klart=sparad", 303)

    async def autosave_month(request: Request) -> Response:
        """The page's script saves the draft a moment after the writer stops typing; the answer is
        the status line it shows. Nothing incomplete or stale is saved; "Spara utkast" then says why."""
        _identity, _month, _draft, (outcome, detail) = await submitted_draft(request, "draft.autosave")
        if outcome == "saved":
            return JSONResponse({"version": detail.version, "status": f"Sparat {views.clock_text(detail.saved_at)}."})
        if outcome == "stale":
            return JSONResponse({"status": f"Inte sparat: {detail.saved_by} sparade en nyare version "
                                           f"{views.when(detail.saved_at)}. Tryck Spara utkast för att jämföra."},
                                status_code=409)
        return JSONResponse({"status": "Inte sparat ännu: " + " ".join(detail.values())}, status_code=422)

    async def preview(request: Request) -> Response:
        who(request)
        month = month_of(request)
        html, _ = report.preview(month, drafts.load(month))
        return HTMLResponse(html)

    async def freeze(request: Request) -> Response:
        identity = who(request, write=True)
        month = month_of(request)
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        draft = drafts.load(month)
        if str(draft.version) != str(form.get("version")):
            record(request, identity, "report.freeze", "stale", month, version=draft.version)
            return month_page(request, identity, month, draft, 409, stale=draft)
        errors = problems(draft, report.computed_colours(report.computed(month)))
        if errors:
            return month_page(request, identity, month, draft, 422, errors=errors)
        outcome = report.freeze(month, draft)
        record(request, identity, "report.freeze", "new_revision" if outcome.created else "unchanged", month,
               version=draft.version, revision=outcome.revision)
        return RedirectResponse(f"/manad/{month}/revision/{outcome.revision}?ny={int(outcome.created)}", 303)

    def revision_no(request: Request, month: str) -> int:
        revision = request.path_params["revision"]
        if revision not in report.store.revisions(month):
            raise HTTPException(404)
        return revision

    async def show_revision(request: Request) -> Response:
        who(request)
        month = month_of(request)
        revision = revision_no(request, month)
        meta = report.store.load(month, revision)["meta"]
        files = [f for f in DOWNLOADS if (report.store.rev_dir(month, revision) / f).is_file()]
        return page(request, "revision.html", month=month, revision=revision, meta=meta,
                    new=request.query_params.get("ny"), changes=views.shown_changes(meta), files=files)

    async def download(request: Request) -> Response:
        who(request)
        month = month_of(request)
        revision = revision_no(request, month)
        name = request.path_params["file"]
        if name not in DOWNLOADS:
            raise HTTPException(404)
        path = report.store.rev_dir(month, revision) / name
        if not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=DOWNLOADS[name],
                            filename=f"nämndrapport-{month}-rev-{revision}{path.suffix}")

    async def show_log(request: Request) -> Response:
        who(request)
        month = month_of(request)
        return page(request, "log.html", month=month, entries=list(reversed(audit.entries(month))))

    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        return page(request, "error.html", 403, message=str(exc))

    async def login_needed(request: Request, exc: LoginNeeded) -> Response:
        target = "/logga-in" + (f"?orsak={quote(exc.reason)}" if exc.reason else "")
        return RedirectResponse(target, 303)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = {404: "Sidan finns inte.", 405: "Metoden är inte tillåten."}.get(exc.status_code, "Något gick fel.")
        return page(request, "error.html", exc.status_code, message=message)

    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    secret = settings.secret_key() or secrets.token_urlsafe(32)
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/logga-in", login_form, methods=["GET"]),
            Route("/logga-in", login, methods=["POST"]),
            Route("/logga-ut", logout, methods=["POST"]),
            Route("/manad/{month}", show_month, methods=["GET"]),
            Route("/manad/{month}", save_month, methods=["POST"]),
            Route("/manad/{month}/autospara", autosave_month, methods=["POST"]),
            Route("/manad/{month}/forhandsgranskning", preview),
            Route("/manad/{month}/frys", freeze, methods=["POST"]),
            Route("/manad/{month}/revision/{revision:int}", show_revision),
            Route("/manad/{month}/revision/{revision:int}/{file}", download),
            Route("/manad/{month}/logg", show_log),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=headers),
                    Middleware(SessionMiddleware, secret_key=secret, session_cookie="casewatch_board",
                               max_age=settings.session_max_hours * 3600, same_site="strict",
                               https_only=settings.cookie_secure)],
        exception_handlers={NotAllowed: not_allowed, LoginNeeded: login_needed, HTTPException: http_error},
    )
    return app
