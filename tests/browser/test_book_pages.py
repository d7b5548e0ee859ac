"""Every page of the built book, opened in headless Chromium at 1280 px with the network off,
as a reader sees it: tables, figures and code within the text column, every formula rendered
by the bundled MathJax, every image loaded, no console error, no glue left unset. A
full-page screenshot of each page is saved for review."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The reader's window.
VIEWPORT = {"width": 1280, "height": 900}

#: Elements that must fit within the text column, and code boxes that must not scroll.
OVERFLOW = """() => {
  const column = document.querySelector('article.bd-article');
  const limit = column.getBoundingClientRect().right + 1;
  const shown = el => el.getClientRects().length > 0 && !el.closest('details:not([open])');
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
      (el.innerText || el.alt || '').trim().slice(0, 60).replace(/\\s+/g, ' ') + '"';
  const wide = [];
  for (const el of column.querySelectorAll('table, img, figure, .cell_output > *, pre')) {
    if (!shown(el)) continue;
    const right = el.getBoundingClientRect().right;
    if (right > limit) wide.push(`${name(el)} ends at ${Math.round(right)} px, the column at ${Math.round(limit)}`);
    else if (el.scrollWidth > el.clientWidth + 1)
      wide.push(`${name(el)} scrolls: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
  }
  return wide;
}"""

#: Formulas MathJax left as source, and TeX delimiters left in the text.
RAW_MATH = """() => {
  const raw = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container')) raw.push(el.textContent.trim().slice(0, 80));
  }
  const walker = document.createTreeWalker(document.querySelector('article.bd-article'),
                                           NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, mjx-container, .math')) continue;
    if (/\\\\\\[|\\\\\\(|\\$\\$|\\\\begin\\{|\\\\frac|\\\\mathrm/.test(node.textContent))
      raw.push(node.textContent.trim().slice(0, 80));
  }
  return raw;
}"""

#: Images that did not load.
BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src)"""

#: Glue the build left unset (myst-nb keeps the role's text when it finds no value).
UNSET_GLUE = """() => {
  const text = document.querySelector('article.bd-article').innerText;
  return (text.match(/\\{glue:?[a-z]*\\}`?[\\w-]*`?/g) || []);
}"""


def _open(browser, page_path: Path):
    """The page at ``page_path`` in a fresh context with every non-file request refused,
    its console errors and the addresses it tried to reach."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors, refused = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith("file://"):
            return r.continue_()
        refused.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    if page.evaluate("() => document.querySelector('.math') !== null"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
    return context, page, errors, refused


def test_page_reads_as_written(browser, book, screenshots, page_path):
    context, page, errors, refused = _open(browser, page_path)
    try:
        page.screenshot(path=str(screenshots / f"{page_path.stem}.png"), full_page=True)
        problems = {
            "wider than the column": page.evaluate(OVERFLOW),
            "formula not rendered": page.evaluate(RAW_MATH),
            "image not loaded": page.evaluate(BROKEN_IMAGES),
            "glue left unset": page.evaluate(UNSET_GLUE),
            "console error": errors,
            "network request (the book must work offline)": refused,
        }
    finally:
        context.close()
    found = {what: items for what, items in problems.items() if items}
    assert not found, f"{page_path.name}: " + "; ".join(
        f"{what}: {items[:5]}" + (f" and {len(items) - 5} more" if len(items) > 5 else "")
        for what, items in found.items())


def test_every_chapter_of_the_book_was_built(book):
    from posthoc.repro.chapters import CHAPTERS

    missing = [c.name for c in CHAPTERS.values() if not (book / "book" / f"{c.name}.html").is_file()]
    assert not missing, f"chapters missing from {book}: {missing}"


@pytest.mark.parametrize("bad", ["<p>\\\\[ x^2 \\\\]</p>", "<p>{glue:text}`n_cells`</p>"])
def test_the_checks_find_what_they_look_for(browser, tmp_path, bad):
    """A page with a raw formula or unset glue fails the check that looks for it."""
    page_path = tmp_path / "bad.html"
    page_path.write_text(f"<html><body><article class='bd-article' style='width:700px'>"
                         f"{bad}<table style='width:900px'><tr><td>x</td></tr></table>"
                         "</article></body></html>")
    context, page, errors, refused = _open(browser, page_path)
    try:
        assert page.evaluate(OVERFLOW)
        assert page.evaluate(RAW_MATH) or page.evaluate(UNSET_GLUE)
    finally:
        context.close()
