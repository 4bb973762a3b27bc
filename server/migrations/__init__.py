"""Imports every domain's models so that SQLModel's metadata knows all tables (for Alembic and tests)."""


def import_all_models() -> None:
    import server.accounts.models  # noqa: F401
    import server.aftercare.models  # noqa: F401
    import server.appointments.models  # noqa: F401
    import server.models  # noqa: F401
    import server.notifications.models  # noqa: F401
    import server.reports.models  # noqa: F401
