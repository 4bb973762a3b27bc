"""The fit check (tests/browser/fit.py) on pages made for it: it finds a number broken one digit per line and a
row cut off at the right edge with no sign that it scrolls, and lets pass what fits or shows that it scrolls."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.fit import FIT_CHECK

pytestmark = pytest.mark.browser

HEAD = '<!doctype html><html lang="id"><head><meta name="viewport" content="width=device-width,initial-scale=1">' \
       '<style>body{margin:0;font:16px sans-serif;overflow-wrap:anywhere} .row{display:flex;overflow-x:auto}' \
       ' .row span, .wide span{flex:none;width:90px} .wide{display:flex}</style></head><body>'
ROW = "".join(f"<span>Hari {n}</span>" for n in range(1, 9))


def found_on(page: Page, body: str) -> list[str]:
    page.set_content(HEAD + body + "</body></html>")
    return page.evaluate(FIT_CHECK)


def test_the_check_finds_what_does_not_fit_and_passes_what_does(page: Page, fit_violations: list[dict[str, Any]]):
    assert page.viewport_size["width"] == 360
    # The statistics' fault: a grid squeezing the numbers into a column a few pixels wide.
    squeezed = found_on(page, '<dl style="display:grid;grid-template-columns:minmax(7rem,max-content) 1fr">'
                              "<dt>Median waktu sampai tindak lanjut pertama terpenuhi tepat waktu</dt>"
                              "<dd>1.234 dari 1.234</dd></dl>")
    assert any('"1.234"' in problem and "broken" in problem for problem in squeezed), squeezed
    # Booking's fault: a row of days that scrolls, cut off at the edge, with nothing to say so.
    cut = found_on(page, f'<div class="row">{ROW}</div>')
    assert cut == [cut[0]], cut
    assert "scrolls with no visible sign" in cut[0], cut
    assert "past the right edge" in found_on(page, f'<div class="wide">{ROW}</div>')[0]
    assert "overflow hidden" in found_on(page, f'<div class="row" style="overflow-x:hidden">{ROW}</div>')[0]
    # What fits, or says that it scrolls, passes; so do a word longer than the screen and words at a hyphen.
    assert found_on(page, '<dl><dt>Kasus</dt><dd>1.234 dari 1.234</dd></dl>') == []
    assert found_on(page, f'<p id="geser">Geser ke samping untuk hari lain</p>'
                          f'<div class="row" aria-describedby="geser">{ROW}</div>') == []
    assert found_on(page, "<p>" + "tolong" * 30 + "</p><p style='width:8em'>tanda-tanda seorang murid</p>") == []
    assert found_on(page, '<p><span style="position:absolute;width:1px;height:1px;overflow:hidden;'
                          'clip:rect(0 0 0 0)">tersembunyi untuk pembaca layar</span>Terlihat</p>') == []
    # What the pages of this test reported on their own is what was asserted above, on purpose.
    fit_violations.clear()
