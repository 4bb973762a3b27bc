"""Alembic environment: the URL comes from the app's settings (or the caller), the models from the domains.

`server.migrate` passes a connection already inside its one transaction; run on its own (the `alembic` command,
`alembic check`), this file opens the same kind of connection and runs every pending migration in one
transaction too."""

from __future__ import annotations

from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel

from server.db import UTCDateTime, engine_for
from server.migrate import check_foreign_keys, migration_engine
from server.migrations import import_all_models
from server.settings import from_env

import_all_models()
config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, _autogen_context: AutogenContext) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.attributes.get("url") or engine_for(from_env()).url.render_as_string(hide_password=False)
        engine = migration_engine(url)
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
        # One transaction for the whole run, on SQLite too (migration_engine makes its DDL transactional).
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


run_migrations()
