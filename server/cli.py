"""The `bintang` command: run, worker, migrate, grant-app-role, seed-demo, create-user, setup-link, vapid,
backup-key, backup (and backup verify), restore, upgrade."""

from __future__ import annotations

import argparse
import getpass
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from server import audit, clock, logs, migrate, worker
from server.accounts import demo, regions, service
from server.accounts.models import District, Role, School
from server.appointments.demo import seed_demo_schedule
from server.backups import service as backups
from server.backups.archive import ArchiveError, write_identity
from server.db import engine_for
from server.notifications import push
from server.settings import Settings, SettingsError, from_env


def _settings():
    try:
        settings = from_env()
    except SettingsError as exc:
        sys.exit(f"bintang: {exc}")
    clock.use_zone(settings.region.zone)
    return settings


def _set_up_region(engine: Engine, settings: Settings) -> None:
    """After migrating: the region's row, kecamatan and kelurahan/desa (a new region is refused for a database
    that holds reports)."""
    try:
        with Session(engine) as session:
            if regions.set_up(session, settings.region):
                print(f"bintang: set up for {settings.region.name}, {settings.region.province} "
                      f"({settings.region.zone})")
            session.commit()
    except regions.RegionChangeRefused as exc:
        sys.exit(f"bintang: {exc}")


def cmd_migrate(_args: argparse.Namespace) -> None:
    settings = _settings()
    engine = engine_for(settings)
    try:
        migrate.upgrade(engine)
    except migrate.MigrationFailed as exc:
        sys.exit(f"bintang: migrating FAILED, nothing changed (the database is still at "
                 f"{migrate.current_revision(engine)}): {exc}")
    _set_up_region(engine, settings)
    print("bintang: database is at the newest migration")


def cmd_grant_app_role(args: argparse.Namespace) -> None:
    engine = engine_for(_settings())
    if engine.dialect.name != "postgresql":
        sys.exit("bintang: grant-app-role is for PostgreSQL (SQLite has no roles; its triggers guard the audit log)")
    try:
        migrate.grant_app_role(engine, args.role)
    except ValueError as exc:
        sys.exit(f"bintang: {exc}")
    print(f"bintang: {args.role} may read and write the app's tables, and only add to the audit log")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    settings = _settings()
    if settings.is_production:
        sys.exit("bintang: refusing to add demo accounts with BINTANG_ENV=production")
    with Session(engine_for(settings)) as session:
        if args.if_empty and demo.has_people(session):
            print("bintang: the database already has people; demo data left as it is")
            return
        created = demo.seed_demo(session, settings.region)
        scheduled = seed_demo_schedule(session)
        session.commit()
    if scheduled:
        print("bintang: demo service types and counselors' weekly hours added")
    if created:
        print(f"bintang: demo accounts {', '.join(created)} (password: {demo.DEMO_PASSWORD})")
    else:
        print("bintang: demo accounts already there")


def cmd_create_user(args: argparse.Namespace) -> None:
    password = args.password or getpass.getpass("Kata sandi: ")
    with Session(engine_for(_settings())) as session:
        school = session.query(School).filter(School.name == args.school).one_or_none() if args.school else None
        district = (
            session.query(District).filter(District.name == args.district).one_or_none() if args.district else None
        )
        form = service.UserForm(
            username=args.username,
            display_name=args.name,
            role=args.role,
            school_id=school.id if school else None,
            district_id=district.id if district else None,
            password=password,
        )
        errors = service.validate_new_user(session, form)
        if errors:
            sys.exit("bintang: " + "; ".join(f"{field}: {message}" for field, message in errors.items()))
        user = service.create_user(session, form)
        audit.record(session, "admin.user_created", actor_label="bintang create-user", object_type="user",
                     object_id=user.id, role=user.role)
        session.commit()
    print(f"bintang: created {args.role} {form.username}")


def cmd_setup_link(args: argparse.Namespace) -> None:
    """No default password in production: the first supervisor is made without one, and this prints (as its
    last line) a link where they set a password and two-factor sign-in. Run on every install: once a supervisor
    has a password it only says so, and exits 0."""
    settings = _settings()
    base = args.base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        sys.exit(f"bintang: --base-url must be the service's address, like https://layanan.example.go.id (got {base!r})")
    if parts.scheme != "https" and settings.is_production:
        sys.exit("bintang: --base-url must start with https:// in production")
    with Session(engine_for(settings)) as session:
        existing = service.supervisor_with_password(session)
        if existing is not None:
            print(f"bintang: supervisor {existing.username} already has a password; no setup link made "
                  f"(sign in at {base}/masuk; a lost password is reset by another supervisor or with "
                  "bintang create-user)")
            return
        try:
            user, token, created = service.make_setup_link(session, username=args.username)
        except ValueError as exc:
            sys.exit(f"bintang: {exc}")
        username = user.username
        session.commit()
    print(f"bintang: {'created' if created else 'found'} supervisor {username}, with no password yet")
    print(f"bintang: open this link within {service.SETUP_LINK_HOURS} hours to set its password and two-factor "
          "sign-in; it works once, and any earlier link no longer does:")
    print(f"{base}{service.SETUP_LINK_PATH}?t={token}")


def _empty_metrics_folder(folder: str) -> None:
    """prometheus-client's rule for PROMETHEUS_MULTIPROC_DIR: empty at each start, or a new run adds up the files
    of processes long gone (their process ids may even come back)."""
    path = Path(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def cmd_run(args: argparse.Namespace) -> None:
    import uvicorn  # noqa: PLC0415 - uvicorn starts the web server only; every other command starts faster without it

    settings = _settings()
    if settings.metrics_multiproc_dir:
        _empty_metrics_folder(settings.metrics_multiproc_dir)
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=False,
        access_log=False,
        server_header=False,
        # uvicorn's own loggers then reach the root logger, which the app writes as JSON lines (server/logs.py).
        log_config=None,
    )


def cmd_vapid(args: argparse.Namespace) -> None:
    if args.generate:
        print(push.generate_private_key())
        return
    print(push.public_key(push.load_vapid(_settings())))


def cmd_worker(_args: argparse.Namespace) -> None:
    settings = _settings()
    logs.configure(settings.log_level)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.run_until(stop, engine_for(settings), settings)


def _first_line(exc: Exception) -> str:
    """A driver's first line says what went wrong (refused, no such database); later ones may quote SQL."""
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def cmd_backup_key(args: argparse.Namespace) -> None:
    try:
        recipient = write_identity(Path(args.id_file))
    except (ArchiveError, OSError) as exc:
        sys.exit(f"bintang: {exc}")
    print(f"bintang: the identity (private key) is in {args.id_file}: keep it off this server, e.g. printed in a "
          "safe; whoever holds it can read every backup")
    print("bintang: put this recipient (public key) into BACKUP_RECIPIENTS (several are separated by commas):")
    print(recipient)


def cmd_backup(args: argparse.Namespace) -> None:
    """Writes the archive, sends it off the host when BACKUP_REMOTE is set, prunes BACKUP_DIR; the archive's
    path is the last line. Each step is recorded; any failure exits non-zero (after the steps that can still
    run: a failed off-host copy does not stop the local prune)."""
    settings = _settings()
    engine = engine_for(settings)
    directory = Path(args.to) if args.to else None
    try:
        result = backups.backup(engine, settings, directory)
    except backups.ArchiveError as exc:
        sys.exit(f"bintang: backup FAILED: {exc}")
    except OperationalError as exc:
        sys.exit(f"bintang: backup FAILED: the database cannot be reached ({_first_line(exc)})")
    print(f"bintang: backup of {sum(t['rows'] for t in result.manifest['tables'].values()):,} rows "
          f"({result.size / 1e6:.1f} MB), migration {result.manifest['migration_head']}")
    failed = []
    if settings.backup_remote and not args.no_remote:
        try:
            backups.send_off_host(engine, settings, result.path)
            print("bintang: copied off the host (BACKUP_REMOTE)")
        except backups.ArchiveError as exc:
            failed.append(f"off-host copy FAILED: {exc}")
    if directory is None or directory.resolve() == settings.backup_dir.resolve():
        try:
            deleted = backups.prune(engine, settings)
            print(f"bintang: pruned {len(deleted)} old archive(s) (keeping {settings.backup_keep_daily} daily, "
                  f"{settings.backup_keep_weekly} weekly, {settings.backup_keep_monthly} monthly)")
        except backups.ArchiveError as exc:
            failed.append(f"prune FAILED: {exc}")
    for message in failed:
        print(f"bintang: {message}", file=sys.stderr)
    print(result.path)
    if failed:
        sys.exit(1)


def cmd_backup_verify(args: argparse.Namespace) -> None:
    settings = _settings()
    try:
        result = backups.verify(engine_for(settings), settings, Path(args.identity),
                                Path(args.archive) if args.archive else None)
    except backups.ArchiveError as exc:
        sys.exit(f"bintang: verify FAILED: {exc}")
    except OperationalError as exc:
        sys.exit(f"bintang: verify FAILED: the database cannot be reached ({_first_line(exc)})")
    manifest = result.manifest
    print(f"bintang: verified {result.archive}: restored into a scratch database, "
          f"{sum(t['rows'] for t in manifest['tables'].values()):,} rows in {len(manifest['tables'])} tables, "
          f"migration {manifest['migration_head']} and the sentinel as the manifest says (made "
          f"{manifest['created_at']}, version {manifest['app_version']})")


def cmd_restore(args: argparse.Namespace) -> None:
    settings = _settings()
    engine = engine_for(settings)
    try:
        result = backups.restore(engine, settings, Path(args.archive), Path(args.identity), force=args.force)
    except backups.ArchiveError as exc:
        sys.exit(f"bintang: restore FAILED: {exc}")
    except OperationalError as exc:
        sys.exit(f"bintang: restore FAILED: the database cannot be reached ({_first_line(exc)})")
    manifest = result.manifest
    print(f"bintang: restored {args.archive} (made {manifest['created_at']}, version {manifest['app_version']}): "
          f"{sum(t['rows'] for t in manifest['tables'].values()):,} rows in {len(manifest['tables'])} tables, "
          f"migration {manifest['migration_head']}, the sentinel found: as the manifest says")
    print(f"bintang: {result.vapid_note}")
    if engine.dialect.name == "postgresql":
        print("bintang: now run `bintang migrate` and `bintang grant-app-role ROLE` as the owner (the restore "
              "gave no rights to the app's role)")
    else:
        print("bintang: now run `bintang migrate` (a newer version brings the database to its migrations)")


# The production units (deploy/systemd/) an upgrade restarts so that they run the new code.
SERVICE_UNITS = ("bintang-web.service", "bintang-worker.service")


def _backup_before_upgrade(engine, settings) -> str:
    """The archive an upgrade can fall back on, taken before any migration runs; its path."""
    return str(backups.backup(engine, settings).path)


def under_systemd() -> bool:
    """Booted with systemd and able to talk to it (sd_booted(3) looks for the same folder)."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def installed_units() -> list[str]:
    return [unit for unit in SERVICE_UNITS
            # systemctl from PATH (under_systemd() found it), fixed arguments, no shell.
            if subprocess.run(["systemctl", "cat", unit], capture_output=True).returncode == 0]  # noqa: S603, S607


def restart_services() -> None:
    units = installed_units() if under_systemd() else []
    if not units:
        print("bintang: not running under systemd (or its bintang units are not installed): restart the app "
              "processes yourself now (`bintang run`, and `bintang worker` where one runs) so they run the new code")
        return
    # systemctl from PATH (under_systemd() found it), our own unit names, no shell.
    if subprocess.run(["systemctl", "restart", *units]).returncode != 0:  # noqa: S603, S607
        sys.exit(f"bintang: the database is upgraded, but restarting failed: run `systemctl restart "
                 f"{' '.join(units)}` as root")
    print(f"bintang: restarted {', '.join(units)}")


def cmd_upgrade(args: argparse.Namespace) -> None:
    """Backup first, then every pending migration in one transaction (a failure leaves the database as it was
    and the running version serving it), then the restart."""
    settings = _settings()
    engine = engine_for(settings)
    before = migrate.current_revision(engine)
    todo = migrate.pending(engine)
    print(f"bintang: the database is at {before or 'no migration (empty)'}; "
          f"migrations to run: {', '.join(todo) if todo else 'none'}")
    if before is None:
        print("bintang: an empty database: nothing to back up")
    elif not todo:
        # The installer runs this on every run: with nothing to migrate nothing can go wrong to fall back from.
        print("bintang: nothing to migrate: no backup needed")
    else:
        try:
            archive = _backup_before_upgrade(engine, settings)
        except Exception as exc:  # noqa: BLE001 - whatever stops the backup stops the upgrade, in plain words
            sys.exit(f"bintang: upgrade stopped before migrating, the backup FAILED: {exc}")
        print(f"bintang: backup before upgrading: {archive}")
    try:
        migrate.upgrade(engine)
    except migrate.MigrationFailed as exc:
        put_back = " (the pre-upgrade snapshot was put back)" if exc.restored_snapshot else ""
        sys.exit(f"bintang: upgrade FAILED, nothing changed: the database is still at {before}{put_back} and the "
                 f"running version goes on serving it; nothing was restarted. The migration's error: {exc}")
    _set_up_region(engine, settings)
    print(f"bintang: the database is at the newest migration ({migrate.current_revision(engine)})")
    if args.no_restart:
        print("bintang: not restarted (--no-restart)")
        return
    restart_services()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bintang", description="Bintang Ceria")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve the app (HOST/PORT, default 127.0.0.1:8000)")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int, default=1, help="app processes (share sessions through the database)")
    run.set_defaults(func=cmd_run)

    commands.add_parser("migrate", help="bring the database to the newest migration").set_defaults(func=cmd_migrate)

    grant = commands.add_parser(
        "grant-app-role", help="PostgreSQL: grant ROLE what the app needs, but no UPDATE/DELETE on the audit log"
    )
    grant.add_argument("role")
    grant.set_defaults(func=cmd_grant_app_role)

    seed = commands.add_parser("seed-demo", help="add demo schools and accounts (never in production)")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no people yet")
    seed.set_defaults(func=cmd_seed_demo)

    setup = commands.add_parser(
        "setup-link",
        help="make the first supervisor (no password) and print a one-time link to set one and two-factor sign-in",
    )
    setup.add_argument("--base-url", required=True, help="the service's address, e.g. https://layanan.example.go.id")
    setup.add_argument("--username", help="the first supervisor's username (default: supervisor)")
    setup.set_defaults(func=cmd_setup_link)

    create = commands.add_parser("create-user", help="create an account, e.g. the first supervisor")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="name shown in the app")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--school", help="school name (teachers)")
    create.add_argument("--district", help="district team (counselors)")
    create.add_argument("--password", help="asked for when left out")
    create.set_defaults(func=cmd_create_user)

    vapid = commands.add_parser("vapid", help="print the VAPID public key (or --generate a private key)")
    vapid.add_argument("--generate", action="store_true", help="print a new private key for VAPID_PRIVATE_KEY")
    vapid.set_defaults(func=cmd_vapid)

    commands.add_parser(
        "worker", help="send notifications and expire lapsed requests (beside web processes run with DISPATCHER=off)"
    ).set_defaults(func=cmd_worker)

    key = commands.add_parser("backup-key", help="make a backup key pair: the identity into ID_FILE, the "
                                                 "recipient printed (for BACKUP_RECIPIENTS)")
    key.add_argument("id_file")
    key.set_defaults(func=cmd_backup_key)

    backup = commands.add_parser("backup", help="encrypted backup of the database and VAPID key into BACKUP_DIR, "
                                               "then off-host copy and prune; `backup verify` proves one restores")
    backup.add_argument("--to", metavar="DIR", help="write the archive here instead of BACKUP_DIR (no prune)")
    backup.add_argument("--no-remote", action="store_true", help="do not send this archive to BACKUP_REMOTE")
    backup.set_defaults(func=cmd_backup)
    backup_commands = backup.add_subparsers(dest="backup_command", required=False)
    verify = backup_commands.add_parser("verify", help="restore an archive into a scratch database and compare "
                                                      "it with its manifest (recorded)")
    verify.add_argument("archive", nargs="?", help="default: the newest in BACKUP_DIR")
    verify.add_argument("--identity", required=True, metavar="ID_FILE")
    verify.set_defaults(func=cmd_backup_verify)

    restore = commands.add_parser("restore", help="restore an archive into the configured database (a new machine)")
    restore.add_argument("archive")
    restore.add_argument("--identity", required=True, metavar="ID_FILE")
    restore.add_argument("--force", action="store_true", help="overwrite a database that already holds data")
    restore.set_defaults(func=cmd_restore)

    upgrade = commands.add_parser("upgrade", help="back up, migrate in one transaction (a failure changes nothing), "
                                                 "restart the app's systemd units")
    upgrade.add_argument("--no-restart", action="store_true", help="leave the restart to the caller (the installer)")
    upgrade.set_defaults(func=cmd_upgrade)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
