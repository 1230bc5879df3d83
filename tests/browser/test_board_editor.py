"""The secretary's month in a real browser: write, be refused, preview, freeze, download; a
reader who cannot edit; two writers who cannot overwrite each other; axe-core on every page."""
from __future__ import annotations

import re
import subprocess

import orjson
from playwright.sync_api import expect

from .conftest import axe_problems

MONTH = "2024-03"
EVENTS_1 = "- Fortsatt många nya anmälningar gällande barn och unga.\n- Sjukfrånvaron har minskat till drygt 7 procent."
ACTIONS_1 = "- Höja grundbemanningen inom barn- och ungdomsenheterna."
EVENTS_2 = "- Frågor om våld ställs inte enligt plan på flera enheter."
ACTIONS_2 = "- Utbildning i att ställa frågor om våldsutsatthet."
REASON_2 = "Polisen bekräftar att samverkan förbättrats; de beräknade väntetiderna släpar efter."
DEVIATION = "- Ökade kostnader för placeringar i HVB och på SiS-institutioner."
RISKS = "- Fortsatt ökning av anmälningar kan innebära ökade kostnader för placeringar."


def assert_accessible(page, within: list[str] | None = None) -> None:
    problems = axe_problems(page, within)
    assert not problems, f"{page.url}: " + "; ".join(problems)


def test_writer_writes_previews_and_freezes_a_month(login, shots, editor, tmp_path, browser):
    public = browser.new_page(base_url=editor["url"])
    public.goto("/")
    assert public.url.endswith("/logga-in")
    shots(public, "login")
    assert_accessible(public)
    public.close()
    page = login("anna")
    shots(page, "months")
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hoppa till innehållet"

    page.get_by_role("link", name="mars 2024").click()
    page.wait_for_url(f"**/manad/{MONTH}")
    assert page.get_by_role("heading", level=1).inner_text() == "Månadsuppföljning mars 2024"
    computed = page.locator("#area-kvalitet-assessed_colour option").first.inner_text()
    computed = re.fullmatch(r"Samma som beräknad \((grön|gul|röd)\)", computed).group(1)
    other = "gul" if computed != "gul" else "röd"  # a colour the office sets against the computed one
    other_word = {"gul": "Gul", "röd": "Röd"}[other]
    shots(page, "month-empty")
    assert_accessible(page)
    # The economy's nine columns scroll inside their own region; the page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.locator("#area-medarbetare-events").fill(EVENTS_1)
    page.locator("#area-medarbetare-actions").fill(ACTIONS_1)
    page.locator("#area-kvalitet-events").fill(EVENTS_2)
    page.locator("#area-kvalitet-actions").fill(ACTIONS_2)
    page.locator("#area-kvalitet-assessed_colour").select_option(other)
    page.locator("#deviation").fill(DEVIATION)
    page.locator("#risks").fill(RISKS)
    page.get_by_role("button", name="Spara utkast").click()
    summary = page.get_by_role("alert").filter(has_text="Utkastet är inte sparat")
    summary.wait_for()
    assert "Skriv en motivering" in summary.inner_text()
    assert page.locator("#area-kvalitet-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#area-medarbetare-events").input_value() == EVENTS_1  # nothing the writer typed is lost
    assert "Inget utkast sparat ännu" in page.locator(".status").inner_text()
    shots(page, "colour-without-reason-refused")
    assert_accessible(page, ["#fel", "#area-kvalitet-rubrik", "section.area:nth-of-type(2)"])

    page.get_by_role("link", name=re.compile("Skriv en motivering")).click()
    assert page.evaluate("location.hash") == "#kvalitet-reason"
    page.locator("#area-kvalitet-reason").fill(REASON_2)
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()
    assert "Utkast version 1, sparat av anna" in page.locator(".status").inner_text()
    assert page.locator("#area-kvalitet-reason").input_value() == REASON_2
    shots(page, "saved")
    assert_accessible(page, [".notice", ".status"])

    page.get_by_role("link", name="Förhandsgranska rapporten").click()
    page.wait_for_url(f"**/manad/{MONTH}/forhandsgranskning")
    preview_text = " ".join(page.locator("body").inner_text().split())
    assessed = f"Bedömning: {other_word} – förvaltningens sammanvägda bedömning"
    for text in ("Fortsatt många nya anmälningar gällande barn och unga", assessed, "Fortsatt ökning av anmälningar"):
        assert text in preview_text
    preview_html = page.request.get(f"/manad/{MONTH}/forhandsgranskning").text()
    shots(page, "preview")
    assert_accessible(page)
    page.go_back()

    page.get_by_role("button", name="Frys rapporten").click()
    page.wait_for_url(re.compile(rf".*/manad/{MONTH}/revision/1\?ny=1$"))
    assert "Rapporten är fryst som revision 1" in page.get_by_role("status").inner_text()
    shots(page, "frozen-rev-1")
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Rapporten som PDF").click()
    pdf = tmp_path / "rapport.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for expected in ("Månadsuppföljning mars 2024", "Fortsatt många nya anmälningar gällande barn och unga",
                     "Höja grundbemanningen", assessed, "Polisen bekräftar",
                     "Utbildning i att ställa frågor", "Ökade kostnader för placeringar i HVB",
                     "Fortsatt ökning av anmälningar"):
        assert expected in flat, expected

    # The preview was the very page that was frozen and made into the PDF.
    assert page.request.get(f"/manad/{MONTH}/revision/1/rapport.html").text() == preview_html

    # A second freeze after an edit: revision 2, and the page says what changed.
    page.goto(f"/manad/{MONTH}")
    page.locator("#area-medarbetare-actions").fill(ACTIONS_1 + "\n- Erbjuda stresshanteringsprogram.")
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()
    page.get_by_role("button", name="Frys rapporten").click()
    page.wait_for_url(re.compile(rf".*/manad/{MONTH}/revision/2\?ny=1$"))
    changes = page.get_by_role("table").inner_text()
    assert re.search(r"^1\. .* · åtgärder\t", changes, re.M)
    main_text = page.locator("main").inner_text()
    assert "ersätter revision 1." in main_text and "1 ändrad uppgift sedan revision 1" in main_text
    assert "rev-" not in main_text
    shots(page, "frozen-rev-2-changes")

    page.goto(f"/manad/{MONTH}/logg")
    rows = page.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[2].split(",")[0] for r in rows] == [
        "frös rapporten", "sparade utkastet", "frös rapporten", "sparade utkastet",
        "sparande avvisat: ofullständig bedömning"]
    assert all("\tanna\t" in r and r.endswith("127.0.0.1") for r in rows)
    assert "Polisen" not in page.content()  # the trail never holds the text
    shots(page, "audit-trail")
    assert_accessible(page)


def test_reader_can_read_but_not_edit(login, shots, editor):
    page = login("rut")
    page.goto(f"/manad/{MONTH}")
    assert page.get_by_role("button", name="Spara utkast").count() == 0
    assert page.get_by_role("button", name="Frys rapporten").count() == 0
    assert page.locator("#area-medarbetare-events").is_disabled()
    assert "läsbehörighet" in page.locator("main").inner_text()
    shots(page, "reader-month")
    assert_accessible(page, ["header", "#utkast section:first-of-type", "#frys-rubrik"])
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post(f"/manad/{MONTH}", form={"csrf_token": token, "version": "0",
                                                        "area-medarbetare-events": "- Läsaren skriver"})
    assert forged.status == 403
    assert "läsbehörighet" in forged.text()
    assert page.request.post(f"/manad/{MONTH}/frys", form={"csrf_token": token, "version": "0"}).status == 403
    page.get_by_role("link", name="Förhandsgranska rapporten").click()
    assert page.locator("h1").inner_text().startswith("Månadsuppföljning")


def test_a_stale_save_from_a_second_session_is_refused(login, shots, editor):
    month = "2024-02"
    anna, bertil = login("anna"), login("bertil")
    anna.goto(f"/manad/{month}")
    bertil.goto(f"/manad/{month}")
    bertil.locator("#area-valfard-events").fill("- Bertils text om välfärden.")
    bertil.get_by_role("button", name="Spara utkast").click()
    bertil.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()

    anna.locator("#area-valfard-events").fill("- Annas text om välfärden.")
    with anna.expect_response(lambda r: r.request.method == "POST") as answer:
        anna.get_by_role("button", name="Spara utkast").click()
    assert answer.value.status == 409
    alert = anna.get_by_role("alert").filter(has_text="Dina ändringar är inte sparade")
    assert "bertil sparade version 1" in alert.inner_text()
    assert anna.locator("#area-valfard-events").input_value() == "- Annas text om välfärden."
    anna.locator("details.saved summary").first.click()
    shots(anna, "stale-save-refused")
    assert_accessible(anna, ["#konflikt", "details.saved"])
    saved = orjson.loads((editor["settings"].data_dir / month / "draft.json").read_bytes())
    assert saved["areas"]["valfard"]["events"] == "- Bertils text om välfärden."

    # Having seen Bertil's version, Anna may now save over it on purpose.
    anna.get_by_role("button", name="Spara utkast").click()
    anna.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()
    saved = orjson.loads((editor["settings"].data_dir / month / "draft.json").read_bytes())
    assert (saved["version"], saved["saved_by"]) == (2, "anna")


def test_forms_without_the_csrf_token_are_refused(login, editor):
    page = login("anna")
    answer = page.request.post(f"/manad/{MONTH}", form={"version": "0", "risks": "- utan token"})
    assert answer.status == 403
    assert not (editor["settings"].data_dir / "2024-01" / "draft.json").exists()
    assert page.request.post("/logga-ut", form={}).status == 403


def test_the_draft_saves_itself_while_typing(login, shots, autosave_editor):
    """Issue 17: the draft is saved as the writer types (a moment after the last keystroke), the
    page says when in Swedish, and the explicit save that follows is not taken for a stale one."""
    month, data = "2024-01", autosave_editor["settings"].data_dir
    page = login("anna", autosave_editor)
    page.goto(f"/manad/{month}")
    status = page.locator("#autosparat")
    assert status.inner_text() == ""
    page.locator("#area-medarbetare-events").press_sequentially("- Ny chef på mottagningen.", delay=20)
    expect(status).to_have_text(re.compile(r"^Sparat kl\."), timeout=15_000)  # no eval: the page's CSP forbids it
    assert re.fullmatch(r"Sparat kl\. \d{2}\.\d{2}\.", status.inner_text())
    saved = orjson.loads((data / month / "draft.json").read_bytes())
    assert (saved["version"], saved["areas"]["medarbetare"]["events"]) == (1, "- Ny chef på mottagningen.")
    shots(page, "autosaved")
    assert_accessible(page, [".save-row"])

    # An incomplete draft (a colour without its reason) is not saved, and the page says why.
    computed = page.locator("#area-kvalitet-assessed_colour option").first.inner_text()
    page.locator("#area-kvalitet-assessed_colour").select_option("röd" if "röd" not in computed else "grön")
    expect(status).to_have_text(re.compile(r"^Inte sparat"), timeout=15_000)
    assert "motivering" in status.inner_text()
    assert orjson.loads((data / month / "draft.json").read_bytes())["version"] == 1
    page.locator("#area-kvalitet-reason").fill("Samverkan med polisen har förbättrats.")
    expect(status).to_have_text(re.compile(r"^Sparat kl\."), timeout=15_000)
    assert orjson.loads((data / month / "draft.json").read_bytes())["version"] == 2

    # "Spara utkast" right after continues from the autosaved version instead of being refused.
    page.locator("#risks").fill("- Fler placeringar.")
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_role("status").filter(has_text="Utkastet är sparat").wait_for()
    saved = orjson.loads((data / month / "draft.json").read_bytes())
    assert saved["risks"] == "- Fler placeringar." and saved["version"] >= 3
    page.reload()
    assert page.locator("#area-kvalitet-reason").input_value() == "Samverkan med polisen har förbättrats."
    actions = [orjson.loads(row)["action"] for row in (data / month / "audit.jsonl").read_bytes().splitlines()]
    assert "draft.autosave" in actions and "draft.save" in actions
