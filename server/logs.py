"""Logs as one JSON object a line on standard output (the journal under systemd): what happened, never what anyone
typed. A request's line holds its method, route template, status, duration and request id; a background event's
line (a dispatcher's send, a worker starting or stopping) names the event and its numbers. Form values, case
content, codes, PINs, tokens, cookies, query strings and client addresses are never put in a line; an exception is
logged by its kinds and the lines it passed through, never its message (a database error's message can quote the
failing row, and any message may quote what was typed)."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from server.privacy import masking

# The request being answered, so that every line logged while answering it carries its id.
request_id: ContextVar[str] = ContextVar("request_id", default="")
# What a proxy may send as X-Request-ID and we carry on: a UUID or a token of plain characters. Anything else is
# replaced, so the header cannot smuggle text (or a code) into the logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")
# The LogRecord's own attributes; anything else on a record was given as `extra=` and goes into the line.
# (uvicorn adds `color_message`, the message with terminal colours; masking marks a record it has masked.)
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message",
                                                                "_bintang_masked"}


def new_request_id(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


def where_it_failed(exc: BaseException) -> str:
    """The exception's kinds and the lines it passed through, never its messages."""
    kinds, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(getattr(current, "orig", None), "sqlstate", None) or getattr(current, "sqlstate", None)
        kinds.append(type(current).__qualname__ + (f" (SQLSTATE {code})" if code else ""))
        current = current.__cause__ or current.__context__
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return " <- ".join(kinds) + "\n" + frames


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # The moment the logging module stamped on the record (journald keeps its own too).
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS})
        if "request_id" not in line and (current := request_id.get()):
            line["request_id"] = current
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = where_it_failed(record.exc_info[1])
        return json.dumps(line, ensure_ascii=False, default=str)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a line is logged (a test's capture, the journal's pipe)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure(level: str) -> None:
    """JSON lines on standard output for every logger (uvicorn's too, which `bintang run` leaves unconfigured so
    that they reach the root logger), with personal data masked in every record as it is made
    (server/privacy/masking.py). Calling it again changes only the level."""
    masking.install_log_masking()
    root = logging.getLogger()
    if not any(isinstance(handler, StdoutHandler) for handler in root.handlers):
        root.addHandler(StdoutHandler())
    root.setLevel(level)
    logging.getLogger("bintang").setLevel(level)
