"""The urgency a new report starts with, row by row as the README's table "Urgensi laporan" gives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.reports.models import (
    Category,
    Urgency,
)
from server.reports.report_form import ReportForm


@dataclass(frozen=True)
class UrgencyRule:
    """One row of the urgency table: the first row whose test holds gives a new report its urgency."""

    urgency: Urgency
    reason: str  # the README's words for the row, so the table there and here can be compared line by line
    applies: Any  # Callable[[ReportForm], bool]


def _chose(*categories: Category) -> Any:
    return lambda form: bool(set(categories) & set(form.categories))


# The urgency a report starts with, before a counselor triages it. The same table is in the README ("Urgensi
# laporan") and each row is tested. Darurat means someone must act at once; tinggi that the child may be unsafe
# where they live or the law sets a short deadline (sexual violence: police within 3×24 h); the rest waits for
# the first follow-up within 3 working days.
URGENCY_RULES: tuple[UrgencyRule, ...] = (
    UrgencyRule(Urgency.EMERGENCY, "someone is in danger now", lambda form: form.danger_now == "yes"),
    UrgencyRule(Urgency.HIGH, "sexual violence", _chose(Category.SEXUAL)),
    UrgencyRule(Urgency.HIGH, "trafficking", _chose(Category.TRAFFICKING)),
    UrgencyRule(Urgency.HIGH, "exploitation", _chose(Category.EXPLOITATION)),
    UrgencyRule(Urgency.HIGH, "very sad, afraid, or wanting to hurt oneself", _chose(Category.MENTAL_HEALTH)),
    UrgencyRule(Urgency.HIGH, "afraid to go home", lambda form: form.afraid_to_go_home == "yes"),
    UrgencyRule(Urgency.HIGH, "violence or neglect at home",
                lambda form: form.happened_where == "home"
                and _chose(Category.PHYSICAL, Category.PSYCHOLOGICAL, Category.NEGLECT)(form)),
    UrgencyRule(Urgency.HIGH, "physical violence still going on",
                lambda form: form.happened_when == "ongoing" and _chose(Category.PHYSICAL)(form)),
    UrgencyRule(Urgency.MEDIUM, "anything else", lambda _form: True),
)


def initial_urgency(form: ReportForm) -> Urgency:
    """The first row of URGENCY_RULES that holds (a filled honeypot is sorted last before this is asked)."""
    return next(rule.urgency for rule in URGENCY_RULES if rule.applies(form))
