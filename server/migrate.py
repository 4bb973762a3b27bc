"""Run Alembic from code: `bintang migrate`, start-up, and the tests use the same path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from server.settings import ROOT


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "server" / "migrations"))
    if engine is not None:
        config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


def check(engine: Engine) -> None:
    """Raises if the models and the migrations disagree."""
    command.check(alembic_config(engine))
