"""The built book in headless Chromium, as a reader's browser shows it.

Every page of the table of contents loads without a JavaScript error of ours,
every image loads and has alt text, no table, figure, code block or inline code
is wider than the window without a scroll container around it and no page
scrolls sideways (at 1280 px and at a phone's 400 px), and every internal link leads to a page and an anchor that exist.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium``
package: skipped with the reason where they are absent, required where
``MINISERMETA_BROWSER=required`` (``.ci/run`` installs them and sets it).
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

WIDTHS = (1280, 400)

# Elements wider than the window that no scroll container holds: a table cut off at the right edge.
OVERFLOW = """
const width = document.documentElement.clientWidth;
const cut = [];
for (const el of document.querySelectorAll('article table, article figure, article img, article pre, article code')) {
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.right <= width + 1) continue;
  let parent = el.parentElement, held = false;
  for (; parent; parent = parent.parentElement) {
    const style = getComputedStyle(parent).overflowX;
    if ((style === 'auto' || style === 'scroll') && parent.getBoundingClientRect().right <= width + 1) {
      held = true;
      break;
    }
  }
  if (!held) cut.push(`${el.tagName.toLowerCase()} ${(el.id || el.className || '').toString().slice(0, 60)}`);
}
return cut;
"""
# What a reader feels whatever the element: the whole page wider than the window.
SIDEWAYS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
IMAGES = """
return [...document.querySelectorAll('article img')].map(
  img => [img.getAttribute('src'), img.getAttribute('alt') || '', img.complete && img.naturalWidth > 0]);
"""
LINKS = "return [...document.querySelectorAll('article a[href]')].map(a => a.href);"
HASHED = re.compile(r"^[0-9a-f]{20,}(\.\w+)?$")  # myst-nb's default alt text: the output's file name


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    missing = [name for name, found in (("chromium", chromium), ("chromium-driver", driver),
                                        ("selenium", webdriver)) if not found]
    if missing:
        reason = f"needs {', '.join(missing)} (apt-get install chromium chromium-driver; pip install selenium)"
        if os.environ.get("MINISERMETA_BROWSER") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def _pages(html: Path) -> list[Path]:
    """The book's own pages (the table of contents and back matter), not Sphinx's search and index pages."""
    return sorted(path for path in html.rglob("*.html")
                  if path.name not in {"search.html", "genindex.html", "py-modindex.html"}
                  and "_static" not in path.parts and "_sources" not in path.parts)


def _our_errors(log: list[dict], html: Path) -> list[str]:
    """Uncaught JavaScript errors in the book's own files (an offline reader's failed CDN requests are not ours,
    nor are messages a library logs)."""
    return [entry["message"] for entry in log
            if entry["level"] == "SEVERE" and entry["message"].startswith(html.as_uri()) and "Uncaught" in entry["message"]]


@pytest.mark.slow
def test_the_built_book_in_a_browser(built_book):
    driver = _browser()
    problems, anchors, targets = [], {}, []
    try:
        pages = _pages(built_book)
        assert len(pages) >= 12, [p.name for p in pages]
        for width in WIDTHS:
            driver.set_window_size(width, 900)
            for page in pages:
                name = page.relative_to(built_book).as_posix()
                driver.get(page.as_uri())
                cut = driver.execute_script(OVERFLOW)
                problems += [f"{name} at {width} px: {element} wider than the window, no scroll" for element in cut]
                sideways = driver.execute_script(SIDEWAYS)
                if sideways > 1:
                    problems.append(f"{name} at {width} px: the page scrolls {sideways} px sideways")
                if width != WIDTHS[0]:
                    continue
                problems += [f"{name}: {error}" for error in _our_errors(driver.get_log("browser"), built_book)]
                for src, alt, loaded in driver.execute_script(IMAGES):
                    if not loaded:
                        problems.append(f"{name}: image {src} does not load")
                    if not alt.strip() or HASHED.match(Path(alt.strip()).name):
                        problems.append(f"{name}: image {src} has no alt text ({alt!r})")
                anchors[page.resolve()] = set(driver.execute_script(
                    "return [...document.querySelectorAll('[id]')].map(e => e.id);"))
                targets += [(name, href) for href in driver.execute_script(LINKS) if href.startswith("file:")]
    finally:
        driver.quit()
    for name, href in targets:
        url = urlparse(href)
        path = Path(unquote(url.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"{name}: link to {href}: no such page")
        elif url.fragment and path.resolve() in anchors and unquote(url.fragment) not in anchors[path.resolve()]:
            problems.append(f"{name}: link to {href}: no such anchor")
    assert not problems, "\n".join(problems)
