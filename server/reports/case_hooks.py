"""What reports tells the domains above it, and what it asks them, without importing them: reports sits below
aftercare, so a domain that cares about a case registers here when its module is imported (the app, `bintang
worker` and the CLI import every domain), the way `notifications.outbox.register_check` works.

- Closing: each registered domain adds its fields to the closing form (a `Part`), first checks what they say
  (raising CaseError with the reason refuses the whole change), then, in the same transaction, acts on the case it
  closed.
- Reopening: each registered domain hears of it in the same transaction.
- The case page and the code holder's page ask each registered part for what it shows: a template of its own
  domain and that template's context (`Part`); the page includes each, in the order they were registered.
- A case form owned by another domain (the check-in plan) is run through the case page's own handling of a refused
  action, by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from server.accounts.models import User
from server.reports.models import Report

# (session, report, the closing form's fields or None) -> what `Closed` is given; raises CaseError to refuse.
CheckClose = Callable[[Session, Report, Mapping[str, Any] | None], Any]
Closed = Callable[[Session, Report, User, Any, str], None]  # (session, report, actor, what CheckClose gave, ip)
Reopened = Callable[[Session, Report], object]  # what it returns is not used


@dataclass(frozen=True)
class Part:
    """A part of a page that another domain shows: its template (included in the page's context, where `part` is
    this) and what that template reads as `part.context`."""
    template: str
    context: Mapping[str, Any]


CasePart = Callable[[Session, Report], Part | None]  # a part of the staff's case page, or None when there is none
HolderPart = Callable[[Session, Report], Part | None]  # a part of the code holder's page, or None
CaseAction = Callable[[Session, Report, User, Mapping[str, Any], str], None]  # (session, report, actor, form, ip)

_on_close: dict[str, tuple[CheckClose, Closed]] = {}
_on_reopen: dict[str, Reopened] = {}
_close_parts: dict[str, CasePart] = {}
_case_parts: dict[str, CasePart] = {}
_holder_parts: dict[str, HolderPart] = {}
_case_actions: dict[str, CaseAction] = {}


class NotFound(Exception):
    """A registered case action found the person may not handle the case: the page answers "not found"."""


def on_close(domain: str, check: CheckClose, closed: Closed) -> None:
    _on_close[domain] = (check, closed)


def on_reopen(domain: str, reopened: Reopened) -> None:
    _on_reopen[domain] = reopened


def register_close_part(domain: str, part: CasePart) -> None:
    """Fields of the form that changes a case's status, read by the domain's `CheckClose` when the case closes."""
    _close_parts[domain] = part


def register_case_part(domain: str, part: CasePart) -> None:
    _case_parts[domain] = part


def register_holder_part(domain: str, part: HolderPart) -> None:
    _holder_parts[domain] = part


def register_case_action(name: str, action: CaseAction) -> None:
    _case_actions[name] = action


def check_close(session: Session, report: Report, form: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each registered domain's answer to the closing form, before anything changes."""
    return {domain: check(session, report, form) for domain, (check, _closed) in _on_close.items()}


def announce_closed(session: Session, report: Report, actor: User, checked: Mapping[str, Any], *, ip: str) -> None:
    for domain, (_check, closed) in _on_close.items():
        closed(session, report, actor, checked[domain], ip)


def announce_reopened(session: Session, report: Report) -> None:
    for reopened in _on_reopen.values():
        reopened(session, report)


def close_parts(session: Session, report: Report) -> list[Part]:
    return [part for ask in _close_parts.values() if (part := ask(session, report)) is not None]


def case_parts(session: Session, report: Report) -> list[Part]:
    return [part for ask in _case_parts.values() if (part := ask(session, report)) is not None]


def holder_parts(session: Session, report: Report) -> list[Part]:
    return [part for ask in _holder_parts.values() if (part := ask(session, report)) is not None]


def case_action(name: str) -> CaseAction | None:
    return _case_actions.get(name)
