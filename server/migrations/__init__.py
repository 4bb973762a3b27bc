"""Imports every domain's models so that SQLModel's metadata knows all tables (for Alembic and tests)."""


def import_all_models() -> None:
    # Imported when asked, not with this package: the migrations sit with the core, which imports no domain.
    import server.accounts.models  # noqa: PLC0415
    import server.aftercare.models  # noqa: PLC0415
    import server.appointments.models  # noqa: PLC0415
    import server.backups.models  # noqa: PLC0415
    import server.dataprotection.models  # noqa: PLC0415
    import server.health.models  # noqa: PLC0415
    import server.models  # noqa: PLC0415
    import server.notifications.models  # noqa: PLC0415
    import server.reports.models  # noqa: PLC0415
    import server.waitlist.models  # noqa: F401, PLC0415 - for the tables each module registers, not for a name
