"""The web app in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) against
the real uvicorn server of ``conftest.py``: what each role sees and is refused, in the browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.sessions._report import CHROMIUM_ARGS, chromium_path

from .conftest import PASSWORD, SUBJECT

# Debian's Chromium with the flags the machine needs (no background networking on the closed
# network, no GPU, no sandbox as root): the same launch as the PDF reports'.
CHROMIUM = chromium_path()
ARGS = CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.path.exists(CHROMIUM),
    reason=f"Chromium is not installed at {CHROMIUM} (.ci/run installs Debian's chromium)",
)


@pytest.fixture(scope="module")
def browser(centre) -> Iterator[object]:
    """Chromium, started after the centre (Playwright's sync API runs its own event loop in
    this thread, and the centre's simulations use ``asyncio.run``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _signed_in(browser, base_url: str, username: str):
    page = browser.new_context(base_url=base_url).new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_clinician_follows_a_resident_to_the_session_report(browser, centre) -> None:
    page = _signed_in(browser, centre.base_url, "clinician")
    page.goto("/residents")
    page.click(f"text={SUBJECT}")
    page.wait_for_load_state()
    assert page.url.endswith(f"/residents/{SUBJECT}")
    page.goto(f"/sessions/{centre.session_id}")
    body = page.inner_text("body")
    assert "index" in body.lower() and NOT_A_DIAGNOSIS in body
    assert page.locator("link[rel=stylesheet]").count() >= 1  # the shipped CSS, served locally


def test_a_coach_sees_the_prescription_but_never_the_index(browser, centre) -> None:
    page = _signed_in(browser, centre.base_url, "coach")
    page.goto(f"/residents/{SUBJECT}")
    body = page.inner_text("body").lower()
    assert "bpm" in body  # the zone of the prescription card
    assert "addiction index" not in body and "craving" not in body
    refused = page.goto(f"/sessions/{centre.session_id}")
    assert refused is not None and refused.status == 403


@pytest.mark.parametrize(
    ("username", "path"),
    [("researcher", "/residents"), ("admin", f"/residents/{SUBJECT}"),
     ("casemanager", f"/residents/{SUBJECT}/identity")],
)  # fmt: skip
def test_refused_pages_show_a_plain_refusal(browser, centre, username: str, path: str) -> None:
    page = _signed_in(browser, centre.base_url, username)
    response = page.goto(path)
    assert response is not None and response.status == 403
    assert SUBJECT not in page.inner_text("body")  # nothing of the resident leaks into the page
