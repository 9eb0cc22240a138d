"""Debian's Chromium driven by Playwright, with every network request blocked, for the tests of
the maps and the report. Importing this module skips the importing test module when Chromium is
missing (and fails when CI is set: .ci/run installs it)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but Chromium is not installed: .ci/run installs Debian's chromium package")
    pytest.skip("browser tests need Chromium (Debian package 'chromium'; .ci/run installs it)",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

TILE = re.compile(r"^https://tile\.openstreetmap\.org/")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def launch():
    """A context manager yielding a launched browser."""
    class _Browser:
        def __enter__(self):
            self._p = sync_playwright().start()
            self.browser = self._p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            return self.browser

        def __exit__(self, *exc):
            self.browser.close()
            self._p.stop()

    return _Browser()


class Page:
    """A page with the network blocked and everything it logs collected."""

    def __init__(self, browser, url: str):
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        self.blocked: list[str] = []
        self.ctx.route("**/*", self._route)
        self.page = self.ctx.new_page()
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.page.wait_for_timeout(800)

    def _route(self, route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self):
        self.ctx.close()

    def assert_clean(self):
        """No script error, no dialog, no request but basemap tiles, no console error but theirs."""
        assert self.errors == []
        assert self.dialogs == []
        assert all(TILE.match(u) for u in self.blocked), [u for u in self.blocked if not TILE.match(u)][:3]
        errors = [t for kind, t in self.console if kind == "error"]
        assert all("Failed to load resource" in t for t in errors), errors[:3]

    def all_text(self) -> str:
        """Everything a reader can see on the page or by hovering and clicking: the page's text and
        the text of every popup and tooltip, each rendered by Leaflet as a click or hover would."""
        return self.page.evaluate("""() => {
            var texts = [document.body.innerText];
            var map = (typeof L === 'undefined') ? null : Object.values(window).find(v => v instanceof L.Map);
            if (map) {
                Object.keys(window).forEach(k => {
                    var v = window[k];
                    if (!(v instanceof L.Layer)) { return; }
                    if (v.getPopup && v.getPopup()) {
                        var where = v.getLatLng ? v.getLatLng() : (v.getBounds ? v.getBounds().getCenter() : null);
                        if (where) {
                            var pop = L.popup().setLatLng(where).setContent(v.getPopup().getContent()).openOn(map);
                            texts.push(pop.getElement().textContent);
                            map.closePopup(pop);
                        }
                    }
                    if (v.getTooltip && v.getTooltip()) {
                        var div = document.createElement('div');
                        var content = v.getTooltip().getContent();
                        if (typeof content === 'string') { div.innerHTML = content; } else { div.appendChild(content); }
                        texts.push(div.textContent);
                    }
                });
            }
            return texts.join('\\n');
        }""")
