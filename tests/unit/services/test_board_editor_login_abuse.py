"""The editor's login page against an attacker: no password guessing at the server's speed, and
no message of the attacker's in the app's own voice through a crafted link."""
from __future__ import annotations

from starlette.testclient import TestClient

from services.board_editor import app as app_module
from services.board_editor.throttle import LoginThrottle
from tests.unit.services.test_board_editor import _app


def _token(client: TestClient) -> str:
    return client.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_password_guessing_is_refused_before_the_password_is_checked(tmp_path, monkeypatch):
    clock = Clock()
    _app(tmp_path)  # writes the users file: anna (writer), rut (reader)
    # the same app, with a throttle on a clock the test moves
    app = app_module.create_app(_settings(tmp_path), throttle=LoginThrottle(window_s=600, clock=clock))
    checked = []
    real_verify = app_module.verify_login
    monkeypatch.setattr(app_module, "verify_login", lambda *a: checked.append(a[1]) or real_verify(*a))
    guesser = TestClient(app, base_url="https://testserver", client=("203.0.113.9", 5000))
    token = _token(guesser)
    answers = [guesser.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": f"gissning-{i}"})
               for i in range(30)]
    assert [a.status_code for a in answers] == [401] * 10 + [429] * 20
    assert len(checked) == 10  # refused guesses cost no argon2 run
    assert "För många misslyckade inloggningar" in answers[-1].text and "anna-lösen" not in answers[-1].text
    assert int(answers[-1].headers["Retry-After"]) == 600
    # the right password does not get through from the guessing address while it is refused
    assert guesser.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "anna-lösen"},
                        follow_redirects=False).status_code == 429

    # anna, from her own address, is not locked out by ten guesses
    anna = TestClient(app, base_url="https://testserver", client=("198.51.100.4", 5000))
    assert anna.post("/logga-in", data={"csrf_token": _token(anna), "anvandare": "anna", "losenord": "anna-lösen"},
                     follow_redirects=False).status_code == 303

    # many addresses guessing one name: refused for that name after 20 failures
    for i in range(20):
        other = TestClient(app, base_url="https://testserver", client=(f"192.0.2.{i}", 5000))
        assert other.post("/logga-in", data={"csrf_token": _token(other), "anvandare": "rut",
                                             "losenord": "fel"}).status_code == 401
    late = TestClient(app, base_url="https://testserver", client=("192.0.2.200", 5000))
    assert late.post("/logga-in", data={"csrf_token": _token(late), "anvandare": "rut",
                                        "losenord": "rut-lösen"}).status_code == 429

    clock.now += 601  # the window has passed
    assert guesser.post("/logga-in", data={"csrf_token": token, "anvandare": "anna", "losenord": "anna-lösen"},
                        follow_redirects=False).status_code == 303


def _settings(tmp_path):
    from services.board_editor.settings import EditorSettings

    return EditorSettings(events_file=tmp_path / "events.jsonl", data_dir=tmp_path / "data",
                          snapshots_dir=tmp_path / "snap", users_file=tmp_path / "users.yaml", session_secret="s")


def test_the_login_page_shows_only_its_own_reasons(tmp_path):
    client = TestClient(_app(tmp_path, session_idle_minutes=30), base_url="https://testserver")
    spoofed = client.get("/logga-in", params={"orsak": "Systemet flyttas. Ring IT-supporten på 08-123 45 67 "
                                                       "och uppge ditt lösenord."})
    assert spoofed.status_code == 200 and "IT-supporten" not in spoofed.text
    own = client.get("/logga-in", params={"orsak": "Du har loggats ut efter 30 minuter utan aktivitet."})
    assert "Du har loggats ut efter 30 minuter utan aktivitet." in own.text
