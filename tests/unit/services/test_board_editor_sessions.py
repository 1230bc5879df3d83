"""Logging out of the board editor ends the session on the server: a copy of the cookie taken
before is refused afterwards, also by a restarted editor on the same data directory. Resetting a
user's password ends that user's sessions. The store of live sessions stays small."""
from __future__ import annotations

import time

import orjson
import pytest
from starlette.testclient import TestClient

from services.board_editor.accounts import save_account
from services.board_editor.app import create_app
from services.board_editor.sessions import MAX_PER_USER, SESSIONS_FILE, SessionStore, SessionStoreError
from services.board_editor.settings import EditorSettings

COOKIE = "casewatch_board"
PAGE = "/manad/2024-03/logg"


def _settings(tmp_path) -> EditorSettings:
    users = tmp_path / "users.yaml"
    if not users.exists():
        save_account(users, "anna", "writer", "anna-lösen")
        save_account(users, "rut", "reader", "rut-lösen")
    return EditorSettings(events_file=tmp_path / "events.jsonl", data_dir=tmp_path / "data",
                          snapshots_dir=tmp_path / "snap", users_file=users, session_secret="s")


def _token(text: str) -> str:
    return text.split('name="csrf_token" value="')[1].split('"')[0]


def _logged_in(app, name: str, password: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    token = _token(client.get("/logga-in").text)
    answer = client.post("/logga-in", data={"csrf_token": token, "anvandare": name, "losenord": password},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return client


def _with_cookie(app, cookie: str) -> TestClient:
    return TestClient(app, base_url="https://testserver", cookies={COOKIE: cookie})


def _sent_to_login(client: TestClient) -> bool:
    answer = client.get(PAGE, follow_redirects=False)
    return answer.status_code == 303 and answer.headers["location"] == "/logga-in"


def test_a_copied_cookie_is_refused_after_logout_also_after_a_restart(tmp_path):
    app = create_app(_settings(tmp_path))
    anna = _logged_in(app, "anna", "anna-lösen")
    copy = anna.cookies[COOKIE]
    assert _with_cookie(app, copy).get(PAGE).status_code == 200  # the copy works while anna is logged in
    rut = _logged_in(app, "rut", "rut-lösen")

    token = _token(anna.get(PAGE).text)
    assert anna.post("/logga-ut", data={"csrf_token": token}, follow_redirects=False).headers["location"] == "/logga-in"
    assert _sent_to_login(anna)
    assert _sent_to_login(_with_cookie(app, copy))
    assert "Logga in" in _with_cookie(app, copy).get(PAGE).text
    assert rut.get(PAGE).status_code == 200  # someone else's session goes on

    restarted = create_app(_settings(tmp_path))  # a new process on the same data directory
    assert _sent_to_login(_with_cookie(restarted, copy))
    assert _with_cookie(restarted, rut.cookies[COOKIE]).get(PAGE).status_code == 200
    assert _logged_in(restarted, "anna", "anna-lösen").get(PAGE).status_code == 200


def test_a_cookie_without_a_live_session_id_is_refused(tmp_path):
    """A cookie signed with the right key but from before this change (no id), or with a made-up id."""
    from base64 import b64encode

    import itsdangerous

    app = create_app(_settings(tmp_path))
    signer = itsdangerous.TimestampSigner("s")
    now = int(time.time())
    for session in ({"user": "anna", "login_at": now, "seen": now, "csrf": "x"},
                    {"user": "anna", "sid": "made-up", "login_at": now, "seen": now, "csrf": "x"}):
        forged = signer.sign(b64encode(orjson.dumps(session))).decode()
        assert _sent_to_login(_with_cookie(app, forged))


def test_resetting_a_password_ends_that_users_sessions(tmp_path):
    settings = _settings(tmp_path)
    app = create_app(settings)
    anna, rut = _logged_in(app, "anna", "anna-lösen"), _logged_in(app, "rut", "rut-lösen")
    save_account(settings.users_file, "anna", "writer", "nytt-lösen")  # casewatch board add-user anna
    assert _sent_to_login(anna)
    assert rut.get(PAGE).status_code == 200
    assert _logged_in(app, "anna", "nytt-lösen").get(PAGE).status_code == 200
    # the same password set again is a reset too (a new salt, a new hash)
    save_account(settings.users_file, "rut", "reader", "rut-lösen")
    assert _sent_to_login(rut)


def test_the_store_drops_sessions_past_the_maximum_age_and_keeps_a_few_per_user(tmp_path):
    now = [1_000_000.0]
    store = SessionStore(tmp_path, max_age_s=3600, clock=lambda: now[0])
    old = store.start("anna", "hash-a", login_at=int(now[0]))
    now[0] += 3601
    assert not store.is_live(old, "anna", "hash-a")
    fresh = store.start("anna", "hash-a", login_at=int(now[0]))
    on_disk = orjson.loads((tmp_path / SESSIONS_FILE).read_bytes())
    assert list(on_disk) == [fresh] and on_disk[fresh]["user"] == "anna"
    assert (tmp_path / SESSIONS_FILE).stat().st_mode & 0o777 == 0o600
    assert not store.is_live(fresh, "rut", "hash-a") and not store.is_live(fresh, "anna", "hash-b")
    assert "hash-a" not in (tmp_path / SESSIONS_FILE).read_text()  # only a mark of the hash

    ids = [store.start("rut", "hash-r", login_at=int(now[0]) + i) for i in range(MAX_PER_USER + 3)]
    assert [store.is_live(s, "rut", "hash-r") for s in ids] == [False] * 3 + [True] * MAX_PER_USER
    assert store.is_live(fresh, "anna", "hash-a")  # one user's logins never end another's session


def test_a_damaged_sessions_file_stops_the_editor_at_start(tmp_path):
    settings = _settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / SESSIONS_FILE).write_text("[1, 2", encoding="utf-8")
    with pytest.raises(SessionStoreError, match=SESSIONS_FILE):
        create_app(settings)
