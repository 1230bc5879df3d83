"""The board editor's parts without a browser: drafts and their versions, the reason rule, the
audit trail, accounts, who is believed (proxy header only from the proxy), CSRF, session expiry.
The browser tests (tests/browser) drive the whole app."""
from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from services.board_editor import security
from services.board_editor.accounts import AccountsError, load_accounts, save_account, verify_login
from services.board_editor.app import create_app
from services.board_editor.audit import AuditEntry, AuditLog
from services.board_editor.drafts import AreaText, Draft, DraftStore, StaleDraft, problems
from services.board_editor.report import narrative_yaml
from services.board_editor.settings import EditorSettings
from services.snapshot import narrative

COMPUTED = {"medarbetare": "grön", "kvalitet": "röd"}


def test_each_save_names_the_version_it_read_and_a_stale_one_is_refused(tmp_path):
    store = DraftStore(tmp_path)
    first = store.save(Draft("2024-03", risks="- a"), 0, "anna", "2024-04-02T10:00:00+02:00")
    assert (first.version, store.load("2024-03").risks) == (1, "- a")
    store.save(Draft("2024-03", risks="- b"), 1, "bertil", "2024-04-02T10:05:00+02:00")
    with pytest.raises(StaleDraft) as refused:
        store.save(Draft("2024-03", risks="- c"), 1, "anna", "2024-04-02T10:06:00+02:00")
    assert (refused.value.current.version, refused.value.current.saved_by) == (2, "bertil")
    assert store.load("2024-03").risks == "- b"
    assert store.months() == ["2024-03"]
    with pytest.raises(ValueError):
        store.load("../etc")


@pytest.mark.parametrize("colour, reason, error", [
    (None, "", None),  # the computed colour needs no reason
    ("röd", "", None),  # the same colour chosen explicitly: no reason either
    ("gul", "", "kvalitet.reason"),
    ("gul", "   ", "kvalitet.reason"),
    ("gul", "Polisen bekräftar förbättrad samverkan.", None),
    ("blå", "x", "kvalitet.assessed_colour"),
])
def test_a_colour_other_than_the_computed_one_needs_a_reason(colour, reason, error):
    draft = Draft("2024-03", areas={"kvalitet": AreaText(assessed_colour=colour, reason=reason)})
    assert list(problems(draft, COMPUTED)) == ([error] if error else [])


def test_the_draft_reaches_the_report_as_its_narrative(tmp_path):
    draft = Draft("2024-03", areas={"medarbetare": AreaText(events="- Händelse A", actions="- Åtgärd A"),
                                    "kvalitet": AreaText(assessed_colour="gul", reason="Skäl B"),
                                    "valfard": AreaText()},
                  risks="- Risk C", deviation="- Placeringar i HVB")
    (tmp_path / "2024-03.yaml").write_text(narrative_yaml(draft), encoding="utf-8")
    text = narrative.load_month(tmp_path, "2024-03")
    assert text.areas == {"medarbetare": narrative.AreaText("- Händelse A", "- Åtgärd A", None, None),
                          "kvalitet": narrative.AreaText(None, None, "gul", "Skäl B")}
    assert (text.risks, text.deviation) == ("- Risk C", "- Placeringar i HVB")
    (tmp_path / "2024-02.yaml").write_text(narrative_yaml(Draft("2024-02")), encoding="utf-8")
    assert narrative.load_month(tmp_path, "2024-02") == narrative.MonthText(source=str(tmp_path / "2024-02.yaml"))


def test_the_audit_trail_keeps_who_when_where_and_never_text(tmp_path):
    log = AuditLog(tmp_path)
    entry = AuditEntry(at="2024-04-02T10:00:00+02:00", actor="anna", action="draft.save", outcome="saved",
                       client="10.1.2.3", request_id="r1", month="2024-03", version=3)
    log.append(entry)
    log.append(AuditEntry(at="2024-04-02T10:01:00+02:00", actor="anna", action="report.freeze",
                          outcome="new_revision", client="10.1.2.3", request_id="r2", month="2024-03", revision=1))
    assert log.entries("2024-03")[0] == entry
    assert [e.said for e in log.entries("2024-03")] == ["sparade utkastet", "frös rapporten"]
    assert log.entries("2024-02") == []
    with pytest.raises(ValueError):
        log.append(AuditEntry(at="x", actor="a", action="draft.delete", outcome="ok", client="", request_id="r",
                              month="2024-03"))


def test_accounts_store_argon2_hashes_and_verify_them(tmp_path):
    users = tmp_path / "users.yaml"
    save_account(users, "anna", "writer", "hemligt-lösen")
    save_account(users, "rut", "reader", None)
    text = users.read_text(encoding="utf-8")
    assert "$argon2id$" in text and "hemligt-lösen" not in text
    assert oct(users.stat().st_mode & 0o777) == "0o600"
    accounts = load_accounts(users)
    assert verify_login(accounts, "anna", "hemligt-lösen").can_write
    assert verify_login(accounts, "anna", "fel") is None
    assert verify_login(accounts, "rut", "") is None  # no password: proxy login only
    assert verify_login(accounts, "okänd", "hemligt-lösen") is None
    users.write_text("users:\n  - name: x\n    role: admin\n", encoding="utf-8")
    with pytest.raises(AccountsError, match="role"):
        load_accounts(users)


def test_settings_refuse_a_proxy_without_trusted_addresses(tmp_path):
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        EditorSettings(auth="proxy", events_file=tmp_path / "e.jsonl")
    with pytest.raises(ValidationError):
        EditorSettings(auth="proxy", trusted_proxies="10.0.0.300", events_file=tmp_path / "e.jsonl")
    with pytest.raises(ValidationError):
        EditorSettings(proxy_user_header="X-User: evil", events_file=tmp_path / "e.jsonl")
    assert EditorSettings(auth="proxy", trusted_proxies="10.0.0.0/24, ::1",
                          events_file=tmp_path / "e.jsonl").proxy_networks()


def _app(tmp_path, **overrides):
    users = tmp_path / "users.yaml"
    save_account(users, "anna", "writer", "anna-lösen")
    save_account(users, "rut", "reader", "rut-lösen")
    settings = EditorSettings(events_file=tmp_path / "events.jsonl", data_dir=tmp_path / "data",
                              snapshots_dir=tmp_path / "snap", users_file=users, session_secret="s", **overrides)
    return create_app(settings)


def test_the_proxy_header_is_believed_only_from_the_proxy(tmp_path):
    app = _app(tmp_path, auth="proxy", trusted_proxies="10.0.0.5", proxy_user_header="X-Kommun-User")
    via_proxy = TestClient(app, base_url="https://testserver", client=("10.0.0.5", 40000))
    answer = via_proxy.get("/manad/2024-03/logg", headers={"X-Kommun-User": "anna", "X-Forwarded-For": "192.0.2.7"})
    assert answer.status_code == 200 and "Händelselogg för mars 2024" in answer.text
    assert "Inloggad som <strong>anna</strong>" in answer.text
    assert via_proxy.get("/manad/2024-03/logg", headers={"X-Kommun-User": "okand"}).status_code == 403
    assert via_proxy.get("/manad/2024-03/logg").status_code == 403  # the proxy sent nobody
    direct = TestClient(app, base_url="https://testserver", client=("10.0.0.6", 40000))
    forged = direct.get("/manad/2024-03/logg", headers={"X-Kommun-User": "anna"})
    assert forged.status_code == 403 and "kommunens inloggning" in forged.text


def _request(peer: str, forwarded: str | None):
    from starlette.requests import Request

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1), "headers": headers, "method": "GET", "path": "/"})


def test_the_audit_address_is_the_proxys_word_only_from_the_proxy(tmp_path):
    settings = EditorSettings(auth="proxy", trusted_proxies="10.0.0.5", events_file=tmp_path / "e.jsonl")
    assert security.client_address(_request("10.0.0.5", "198.51.100.1, 192.0.2.7"), settings) == "192.0.2.7"
    assert security.client_address(_request("10.0.0.5", None), settings) == "10.0.0.5"
    assert security.client_address(_request("203.0.113.9", "192.0.2.7"), settings) == "203.0.113.9"


def test_local_login_needs_the_csrf_token_and_the_right_password(tmp_path):
    client = TestClient(_app(tmp_path), base_url="https://testserver")
    first = client.get("/manad/2024-03/logg", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/logga-in")
    form = client.get("/logga-in")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logga-in", data={"anvandare": "anna", "losenord": "anna-lösen"}).status_code == 403
    wrong = client.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "fel"})
    assert wrong.status_code == 401 and "Fel användarnamn eller lösenord" in wrong.text
    ok = client.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "anna-lösen"},
                     follow_redirects=False)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/manad/2024-03/logg").status_code == 200
    # the token from before login is worthless after it (a new session, a new token)
    assert client.post("/logga-ut", data={"csrf_token": token}).status_code == 403


def test_an_idle_session_expires(tmp_path, monkeypatch):
    client = TestClient(_app(tmp_path, session_idle_minutes=30), base_url="https://testserver")
    token = client.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/logga-in", data={"csrf_token": token, "anvandare": "rut", "losenord": "rut-lösen"})
    assert client.get("/manad/2024-03/logg").status_code == 200
    real = security.time.time()
    monkeypatch.setattr(security.time, "time", lambda: real + 31 * 60)
    expired = client.get("/manad/2024-03/logg", follow_redirects=False)
    assert expired.status_code == 303 and "utan%20aktivitet" in expired.headers["location"]


def test_revision_words_and_the_autosave_time_are_swedish():
    from datetime import datetime

    from services.board_editor import views
    from streams.core.timeutil import STOCKHOLM

    assert views.revision_word("rev-12") == "revision 12"
    assert (views.changes_word(1), views.changes_word(1200)) == ("1 ändrad uppgift", "1\u00a0200 ändrade uppgifter")
    now = datetime.now(STOCKHOLM).replace(second=0, microsecond=0)
    assert views.clock_text(now.isoformat()) == f"kl. {now:%H.%M}"
    assert views.clock_text("2026-11-28T22:47:03+01:00") == "28 november 2026 kl. 22.47"
    said = AuditEntry(at="2026-11-28T22:47:03+01:00", actor="anna", action="draft.autosave", outcome="saved",
                      client="127.0.0.1", request_id="r", month="2024-03")
    assert said.said == "sparade utkastet automatiskt"


def test_autosave_needs_a_writer_and_the_csrf_token(tmp_path):
    client = TestClient(_app(tmp_path), base_url="https://testserver")
    token = client.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "anna-lösen"})
    assert client.post("/manad/2024-03/autospara", data={"version": "0", "risks": "- utan token"}).status_code == 403
    (tmp_path / "r").mkdir()
    reader = TestClient(_app(tmp_path / "r"), base_url="https://testserver")
    token = reader.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    reader.post("/logga-in", data={"csrf_token": token, "anvandare": "rut", "losenord": "rut-lösen"})
    token = reader.get("/manad/2024-03/logg").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert reader.post("/manad/2024-03/autospara", data={"csrf_token": token, "version": "0"}).status_code == 403
    assert not (tmp_path / "data" / "2024-03" / "draft.json").exists()


def _entry(action: str, outcome: str, version: int | None = None, revision: int | None = None) -> AuditEntry:
    return AuditEntry(at="2024-04-02T10:00:00+02:00", actor="anna", action=action, outcome=outcome,
                      client="10.1.2.3", request_id="r", month="2024-03", version=version, revision=revision)


@pytest.mark.parametrize("entry, told", [
    # a refused first save: the store's "version 0" is nothing anyone saw
    (_entry("draft.save", "invalid", 0), "sparande avvisat: ofullständig bedömning, inget sparades "
                                         "(första utkastet för månaden)"),
    (_entry("draft.save", "invalid", 2), "sparande avvisat: ofullständig bedömning, inget sparades "
                                         "(utgick från version 2)"),
    (_entry("draft.save", "invalid", -1), "sparande avvisat: ofullständig bedömning, inget sparades"),
    (_entry("draft.save", "stale", 0), "sparande avvisat: någon annan hade sparat, inget sparades "
                                       "(första utkastet för månaden)"),
    (_entry("draft.save", "saved", 1), "sparade utkastet, version 1"),
    (_entry("draft.autosave", "saved", 4), "sparade utkastet automatiskt, version 4"),
    (_entry("report.freeze", "new_revision", 3, 2), "frös rapporten, revision 2 av utkastets version 3"),
    (_entry("report.freeze", "unchanged", 3, 2), "frysning utan ändring: ingen ny revision, revision 2 gäller"),
    (_entry("report.freeze", "stale", 4), "frysning avvisad: utkastet hade ändrats, nu version 4"),
])
def test_the_log_says_what_happened_in_the_secretarys_words(entry, told):
    assert entry.told == told
    assert entry.told.split(",")[0] == entry.said  # what happened first, as the browser test reads it


def test_the_log_page_never_shows_version_0_for_a_refused_first_save(tmp_path):
    """The board editor's log page for a month whose first save was refused (a colour without a
    reason) and whose second was saved: words, not the store's version numbers."""
    app = _app(tmp_path)
    AuditLog(tmp_path / "data").append(_entry("draft.save", "invalid", 0))
    AuditLog(tmp_path / "data").append(_entry("draft.save", "saved", 1))
    client = TestClient(app, base_url="https://testserver")
    token = client.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "anna-lösen"})
    page = client.get("/manad/2024-03/logg").text
    assert "version 0" not in page
    assert "inget sparades (första utkastet för månaden)" in page and "sparade utkastet, version 1" in page
