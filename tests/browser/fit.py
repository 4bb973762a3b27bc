"""Does the page fit the phone? Run inside every page the browser tests open (see `fit_watch` in conftest.py),
after each load and each htmx swap, so that no test has to remember to ask. Two faults, both found on a 360 px
phone by people reading the app, and both invisible to axe:

- **A box narrower than a word**: a word (a number, a label) broken across lines because the box it is in is
  narrower than the word, although the word would fit on the screen ("1 / 2 / d / a / r / i" in a column a few
  pixels wide). Words longer than the screen is wide (a long address) may break: nothing else could fit them.
  Also any text that takes more lines than it has words.
- **Cut off at the right edge with no sign that it scrolls**: an element that reaches past the screen's right
  edge, unless the box that scrolls it shows that it scrolls (a scrollbar that takes room, or a visible hint the
  box names with aria-describedby). A page that scrolls sideways as a whole, and content a box hides for good
  (overflow: hidden), always count.

Elements hidden on purpose (visually hidden text, the honeypot, the skip link off screen) do not count."""

from __future__ import annotations

FIT_CHECK = r"""() => {
  // Only pages built for a phone: a file the browser shows as text (the web manifest) or a page without a
  // viewport (the stand-in for the site quick exit leaves for) is laid out 980 px wide by the browser.
  if (document.contentType !== "text/html" || !document.querySelector('meta[name="viewport"]')) return [];
  const width = document.documentElement.clientWidth;
  const found = [];
  const describe = (element) => {
    let text = element.tagName.toLowerCase();
    if (element.id) text += "#" + element.id;
    if (typeof element.className === "string" && element.className.trim()) {
      text += "." + element.className.trim().split(/\s+/).join(".");
    }
    return text;
  };
  // Visually hidden (clipped to a pixel) or put off screen on purpose: not meant to be seen, so not a fault.
  const hiddenOnPurpose = (element) => {
    for (let node = element; node && node !== document.documentElement; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.clip && style.clip !== "auto") return true;
      if (style.clipPath && style.clipPath !== "none") return true;
      if (style.position === "absolute" || style.position === "fixed") {
        const box = node.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1 || box.right <= 0) return true;
      }
    }
    return false;
  };
  const visible = (element) => element.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const WORD = /[^\s\-\u2010-\u2014\/]+[\-\u2010-\u2014\/]?/g;
  const lines = (rects) => new Set(rects.map((rect) => Math.round(rect.top))).size;
  const shown = (range) => Array.from(range.getClientRects()).filter((rect) => rect.width > 0 && rect.height > 0);

  // 1. Words broken across lines in a box narrower than the word.
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const reported = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const parent = node.parentElement;
    if (!parent || !text.trim() || reported.has(parent)) continue;
    if (parent.closest("script, style, svg, textarea, select, option, noscript, template, title")) continue;
    range.selectNodeContents(node);
    const rects = shown(range);
    if (lines(rects) < 2) continue;  // one line: nothing is broken
    if (!visible(parent) || hiddenOnPurpose(parent)) continue;
    // A line may break after a hyphen, a dash or a slash ("tanda-tanda"): the parts are words of their own here.
    const words = text.match(WORD) || [];
    const where = `${describe(parent)} "${text.trim().replace(/\s+/g, " ").slice(0, 40)}"`;
    // A word wider than the screen may take several lines: nothing could hold it on one.
    let long = false;
    WORD.lastIndex = 0;
    for (let match = WORD.exec(text); match; match = WORD.exec(text)) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const parts = shown(range);
      const unbroken = parts.reduce((sum, rect) => sum + rect.width, 0);
      if (unbroken > width - 32) { long = true; continue; }
      if (lines(parts) < 2) continue;
      found.push(`word "${match[0].slice(0, 30)}" broken across ${lines(parts)} lines in a box `
                 + `${Math.round(parent.getBoundingClientRect().width)} px wide: ${where}`);
      reported.add(parent);
      break;
    }
    if (!reported.has(parent) && !long && lines(rects) > words.length) {
      found.push(`text in more lines (${lines(rects)}) than words (${words.length}): ${where}`);
      reported.add(parent);
    }
  }

  // 2. Past the right edge, and nothing shows that it scrolls.
  const scrollerOf = (element) => {
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return node;
    }
    return null;
  };
  const marked = (scroller) => {
    const style = getComputedStyle(scroller);
    const bar = scroller.offsetHeight - scroller.clientHeight - parseFloat(style.borderTopWidth)
                - parseFloat(style.borderBottomWidth);
    if (bar > 0) return true;  // a scrollbar that takes room is there to be seen
    for (const id of (scroller.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean)) {
      const hint = document.getElementById(id);
      if (hint && visible(hint) && hint.textContent.trim() && !hiddenOnPurpose(hint)) return true;
    }
    return false;
  };
  const past = new Set();
  const scrollers = new Set();
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || box.right <= 0 || box.right <= width + 0.5) continue;
    if (element.closest("svg") && element.tagName.toLowerCase() !== "svg") continue;
    if (!visible(element) || hiddenOnPurpose(element)) continue;
    past.add(element);
    const scroller = scrollerOf(element);
    const where = `${describe(element)} ends at ${Math.round(box.right)} px on a screen ${width} px wide`;
    if (scroller === null) {
      if (!past.has(element.parentElement)) found.push(`past the right edge: ${where}`);
      continue;
    }
    if (scrollers.has(scroller)) continue;
    const overflow = getComputedStyle(scroller).overflowX;
    if (overflow === "hidden" || overflow === "clip") {
      scrollers.add(scroller);
      found.push(`cut off at the right edge by ${describe(scroller)} (overflow ${overflow}): ${where}`);
    } else if (!marked(scroller)) {
      scrollers.add(scroller);
      found.push(`cut off at the right edge, ${describe(scroller)} scrolls with no visible sign: ${where}`);
    }
  }
  return found;
}"""

# Added to every page before its own scripts: check after the page has loaded and after every htmx swap, and
# hand what is found to the test (`__bcFitReport`, a binding the test exposes; see conftest.fit_watch).
FIT_WATCH = f"""(() => {{
  const check = {FIT_CHECK};
  window.__bcFitCheck = check;
  const run = (when) => requestAnimationFrame(() => {{
    let found;
    try {{ found = check(); }} catch (error) {{ found = [`the fit check failed: ${{error}}`]; }}
    if (found.length && window.__bcFitReport) window.__bcFitReport({{url: location.href, when, found}});
  }});
  window.addEventListener("load", () => run("load"));
  document.addEventListener("htmx:afterSettle", () => run("htmx swap"));
}})();"""
