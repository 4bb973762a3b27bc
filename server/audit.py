"""The append-only audit log: every sign-in, admin change, and (later) every view and change of a case.

Entries are written in the caller's transaction, so an action and its audit entry land together or not at
all. The database refuses UPDATE and DELETE on the table (triggers in the first migration), and on SQLite an
INSERT that reuses an id (what INSERT OR REPLACE does; migration 0005_audit).

People who never signed in (anonymous reporters, code holders, unknown sign-in names) leave no address here: a
child's report must not be traceable to a network for ever. Rate limits still see addresses, in counters that
the worker purges after a day.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from server.models import AuditEntry

# How an entry names whoever acted with a report's code and PIN, or sent a report without an account (who then
# holds its code). Entries written before this one name existed say "anonymous": the table is append-only, so
# they keep it, and `actor_shown` reads both the same.
CODE_HOLDER = "code-holder"
OLD_CODE_HOLDER_LABELS = frozenset({"anonymous"})


def actor_shown(label: str) -> str:
    """An entry's actor as the audit log page shows it: old entries' "anonymous" is the code holder too."""
    return CODE_HOLDER if label in OLD_CODE_HOLDER_LABELS else label


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    actor_label: str = "",
    object_type: str = "",
    object_id: object = "",
    ip: str = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label[:120],
        object_type=object_type,
        object_id=str(object_id),
        ip=ip[:64] if actor_id is not None else "",
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else "",
    )
    session.add(entry)
    return entry
