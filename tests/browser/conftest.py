"""Options of the browser check: where the built book is and which Chromium opens it."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--book", default="_build/html",
                     help="the built HTML book to open (jupyter-book build's html folder)")
    parser.addoption("--chromium", default="/usr/bin/chromium",
                     help="the Chromium binary Playwright drives")
    parser.addoption("--screenshots", default="_build/screenshots",
                     help="where a full-page screenshot of every page is saved")


def pytest_generate_tests(metafunc):
    if "page_path" in metafunc.fixturenames:
        book = Path(metafunc.config.getoption("--book"))
        pages = sorted(book.glob("book/*.html"))
        pages = [p for p in pages if p.name not in ("genindex.html", "search.html")]
        metafunc.parametrize("page_path", pages, ids=[str(p.relative_to(book)) for p in pages])


@pytest.fixture(scope="session")
def book(request) -> Path:
    folder = Path(request.config.getoption("--book"))
    if not (folder / "book" / "intro.html").is_file():
        pytest.fail(f"--book {folder}: no built book there (book/intro.html missing); "
                    "run `make html` first.")
    return folder


@pytest.fixture(scope="session")
def browser(request):
    from playwright.sync_api import sync_playwright

    chromium = request.config.getoption("--chromium")
    if not Path(chromium).is_file():
        pytest.fail(f"--chromium {chromium}: no such file; install Debian's chromium "
                    "(`apt-get install chromium`).")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    folder = Path(request.config.getoption("--screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
