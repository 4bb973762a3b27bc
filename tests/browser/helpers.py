"""Checks for any page a journey touches (it fits the screen; the keyboard reaches every control, in order, with
a visible focus ring) and keyboard-only ways to answer a form: Tab to a control, then Space, Enter, the arrow
keys or typing, as someone without a touch screen or a mouse would."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

from tests.browser.test_reports import assert_no_axe_violations

# What the keyboard should stop on: links and form controls (even if a tabindex of -1 took them out of the
# order: that is what this looks for), and anything else put in the tab order on purpose.
CONTROLS = "a[href], area[href], button, input, select, textarea, summary"
INTERACTIVE = f"{CONTROLS}, [tabindex]"
# Enough Tab presses for any page here; a page with more stops than this is a finding of its own.
MAX_TAB_STOPS = 150


def assert_fits(page: Page) -> None:
    """Nothing is wider than the screen: the page does not scroll sideways, and no visible element's right edge
    passes the screen's. Elements put off screen on purpose (the skip link, the honeypot), too small to see
    (visually hidden text) or clipped inside a container that scrolls on its own do not count."""
    width = page.viewport_size["width"]
    found = page.evaluate(
        """(width) => {
          const clipped = (element) => {
            for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
              if (getComputedStyle(parent).overflowX !== "visible" && parent.getBoundingClientRect().right <= width + 0.5) {
                return true;
              }
            }
            return false;
          };
          const wide = [];
          for (const element of document.body.querySelectorAll("*")) {
            const box = element.getBoundingClientRect();
            if (box.width <= 1 || box.height <= 1 || box.right <= 0) continue;
            if (box.right > width + 0.5 && !clipped(element)) {
              wide.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(box.right)}px`);
            }
          }
          return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, wide};
        }""",
        width,
    )
    assert found["scrollWidth"] <= min(found["innerWidth"], width), found
    assert not found["wide"], found


_START_LISTENING = """() => {
  const log = [];
  const ring = (element) => {
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
                    && style.outlineColor !== "rgba(0, 0, 0, 0)";
    return outline || style.boxShadow !== "none";
  };
  const listener = (event) => {
    const box = event.target.getBoundingClientRect();
    log.push({element: event.target, ring: ring(event.target), top: box.top + scrollY, bottom: box.bottom + scrollY});
  };
  document.addEventListener("focusin", listener, true);
  window.keyboardWalk = {log, stop: () => document.removeEventListener("focusin", listener, true)};
}"""

_STOPS = """([selector, controls]) => {
  const name = (element) => {
    const text = (element.getAttribute("aria-label") || element.labels?.[0]?.textContent
                  || element.textContent || element.value || element.name || "").trim().replace(/\\s+/g, " ");
    return `${element.tagName.toLowerCase()}${element.type ? "[" + element.type + "]" : ""} "${text.slice(0, 50)}"`;
  };
  const stops = [];
  const groups = new Set();
  for (const element of document.querySelectorAll(selector)) {
    const tabindex = element.getAttribute("tabindex");
    // Hidden from everyone on purpose (the honeypot), or not a control and out of the tab order.
    if (element.closest("[inert], [aria-hidden=true]")) continue;
    if (!element.matches(controls) && parseInt(tabindex, 10) < 0) continue;
    if (element.matches(":disabled") || element.type === "hidden") continue;
    if (!element.checkVisibility({visibilityProperty: true, checkVisibilityCSS: true})) continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    // A group of radio buttons is one stop: Tab enters it, the arrow keys move inside it.
    if (element.type === "radio" && element.name) {
      const key = `${element.form ? element.form.action : ""} ${element.name}`;
      if (groups.has(key)) continue;
      groups.add(key);
      stops.push({name: name(element), radios: element.name, form: element.form, tabindex});
    } else {
      stops.push({name: name(element), element, tabindex});
    }
  }
  window.keyboardStops = stops;
  return stops.length;
}"""

_RESULT = """() => {
  const {log, stop} = window.keyboardWalk;
  stop();
  const stops = window.keyboardStops;
  const name = (element) => `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
                            + ` "${(element.textContent || element.name || "").trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  // One lap: from the first focus until an element comes round again.
  const lap = [];
  for (const entry of log) {
    if (lap.some((seen) => seen.element === entry.element)) break;
    lap.push(entry);
  }
  const reached = (stop) => lap.some(({element}) => stop.element ? element === stop.element
      : element.type === "radio" && element.name === stop.radios && element.form === stop.form);
  // The lap follows the page, in the document and on the screen: it goes down once and wraps round once; on
  // the screen, a stop wholly above the one before it counts as going back up.
  let wraps = 0, upwards = 0;
  for (let i = 0; lap.length > 1 && i < lap.length; i++) {
    const here = lap[i], next = lap[(i + 1) % lap.length];
    if (here.element.compareDocumentPosition(next.element) & Node.DOCUMENT_POSITION_PRECEDING) wraps++;
    if (next.bottom <= here.top) upwards++;
  }
  return {
    complete: lap.length < log.length,
    missed: stops.filter((stop) => !reached(stop)).map((stop) => stop.name),
    positive: stops.filter((stop) => stop.tabindex !== null && parseInt(stop.tabindex, 10) > 0).map((s) => s.name),
    noRing: lap.filter((entry) => !entry.ring).map((entry) => name(entry.element)),
    order: lap.map((entry) => name(entry.element)),
    wraps,
    upwards,
  };
}"""


def assert_keyboard_reachable(page: Page) -> None:
    """Tab round the whole page: every visible control takes the focus (a group of radio buttons once), in the
    order of the page, and shows a focus ring (an outline or a box shadow) while it has it."""
    stops = page.evaluate(_STOPS, [INTERACTIVE, CONTROLS])
    assert stops <= MAX_TAB_STOPS, f"{stops} tab stops"
    page.evaluate(_START_LISTENING)
    # A full lap from wherever the focus is now, past the end of the page and round to the start again; the
    # slack covers stops the browser adds on its own (a scrolling box with nothing focusable inside).
    for _press in range(stops + 8):
        page.keyboard.press("Tab")
    found: dict[str, Any] = page.evaluate(_RESULT)
    assert found["complete"], f"the focus did not come round again in {stops + 8} presses: {found['order']}"
    assert not found["missed"], f"the keyboard never reaches {found['missed']}; it went {found['order']}"
    assert not found["positive"], f"a positive tabindex changes the order: {found['positive']}"
    assert found["wraps"] <= 1, f"the focus does not follow the page: {found['order']}"
    assert found["upwards"] <= 1, f"the focus jumps back up the screen: {found['order']}"
    assert not found["noRing"], f"no visible focus ring on {found['noRing']}"


def assert_page_is_usable(page: Page) -> None:
    """What every page of a journey must pass on a phone: axe, the screen's width, the keyboard."""
    assert_no_axe_violations(page)
    assert_fits(page)
    assert_keyboard_reachable(page)


# --- the keyboard alone ------------------------------------------------------------------------------------


def _has_focus(target: Locator) -> bool:
    return target.evaluate("(element) => element === document.activeElement")


def tab_to(page: Page, target: Locator, limit: int = MAX_TAB_STOPS) -> None:
    """Press Tab until `target` has the focus."""
    for _press in range(limit):
        page.keyboard.press("Tab")
        if _has_focus(target):
            return
    raise AssertionError(f"Tab never reached {target}")


def type_by_keyboard(page: Page, field: Locator, text: str) -> None:
    tab_to(page, field)
    page.keyboard.type(text)


def press_by_keyboard(page: Page, control: Locator, key: str = "Enter") -> None:
    """Tab to a button or link and press it (Enter, or Space for a checkbox)."""
    tab_to(page, control)
    page.keyboard.press(key)


def choose_by_keyboard(page: Page, radio: Locator) -> None:
    """Tab into the radio group, then move with the arrow keys until `radio` is chosen (arrows choose as they
    move); Space chooses the one the focus landed on."""
    name = radio.get_attribute("name")
    for _press in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        if page.evaluate("(name) => document.activeElement?.type === 'radio' && document.activeElement.name === name",
                         name):
            break
    else:
        raise AssertionError(f"Tab never reached the radio group {name}")
    group_size = page.locator(f"input[type=radio][name='{name}']").count()
    for _press in range(group_size):
        if _has_focus(radio):
            break
        page.keyboard.press("ArrowDown")
    else:
        raise AssertionError(f"the arrow keys never reached {radio}")
    if not radio.is_checked():
        page.keyboard.press("Space")


def select_by_keyboard(page: Page, select: Locator, label: str) -> None:
    """Tab to a closed drop-down and step through its options with the arrow keys until `label` is chosen."""
    tab_to(page, select)
    options = [option.strip() for option in select.locator("option").all_inner_texts()]
    assert label in options, (label, options)
    steps = options.index(label) - select.evaluate("(element) => element.selectedIndex")
    for _press in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    chosen = select.evaluate("(element) => element.selectedOptions[0]?.textContent.trim()")
    assert chosen == label, f"the arrow keys chose {chosen!r}, not {label!r}"
