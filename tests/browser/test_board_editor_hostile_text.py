"""A writer's text is text on every page it reaches, in a real browser: markup and script typed
into the draft are shown as written on the month page, the preview, the frozen report and its PDF,
and nothing of it runs (docs/SECURITY.md, board editor)."""
from __future__ import annotations

import subprocess

import pytest

from .conftest import _serve

MONTH = "2024-01"
HOSTILE = ('- <script>alert("skript")</script><img src=x onerror="alert(\'bild\')">'
           '"><svg onload="alert(\'svg\')"></svg>{{ 7*7 }} **fet**')


@pytest.fixture(scope="module")
def own_editor(tmp_path_factory):
    yield from _serve(tmp_path_factory.mktemp("board-hostile"), autosave_seconds=0)


def test_markup_in_a_draft_is_shown_as_text_and_never_runs(login, shots, own_editor, tmp_path):
    page = login("anna", own_editor)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/manad/{MONTH}")
    fields = page.locator("textarea")
    assert fields.count() >= 4
    for i in range(fields.count()):
        fields.nth(i).fill(HOSTILE)
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()
    assert page.locator("textarea").first.input_value() == HOSTILE  # kept exactly as typed
    shots(page, "hostile-text-saved")

    page.goto(f"/manad/{MONTH}/forhandsgranskning")
    body = page.locator("body").inner_text()
    assert '<script>alert("skript")</script>' in body and "{{ 7*7 }}" in body and "49" not in body.split("{{")[1][:10]
    assert page.locator("img[src=x], svg[onload], script").count() == 0
    shots(page, "hostile-text-preview")

    page.goto(f"/manad/{MONTH}")
    page.get_by_role("button", name="Frys rapporten").click()
    page.wait_for_url(f"**/manad/{MONTH}/revision/1?ny=1")
    # the frozen page is a download, opened from disk: no Content-Security-Policy protects it there
    frozen = tmp_path / "rapport.html"
    frozen.write_bytes(page.request.get(f"/manad/{MONTH}/revision/1/rapport.html").body())
    page.goto(frozen.as_uri())
    assert page.locator("img[src=x], svg[onload], script").count() == 0
    assert '<img src=x onerror="alert(\'bild\')">' in page.locator("body").inner_text()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(page.request.get(f"/manad/{MONTH}/revision/1/rapport.pdf").body())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "<script>alert" in " ".join(text.split())
    page.wait_for_timeout(300)  # any onerror/onload would have fired by now
    assert dialogs == []
