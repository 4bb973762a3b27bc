"""Alembic environment: the URL comes from the app's settings (or the caller), the models from the domains."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from server.db import UTCDateTime, engine_for, make_engine
from server.migrations import import_all_models
from server.settings import from_env

import_all_models()
config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.attributes.get("url")
        engine = make_engine(url) if url else engine_for(from_env())
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
