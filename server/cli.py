"""The `bintang` command: run, worker, migrate, grant-app-role, seed-demo, create-user, vapid."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlmodel import Session

from server import audit, migrate
from server.accounts import demo, service
from server.accounts.models import District, Role, School
from server.appointments.demo import seed_demo_schedule
from server.db import engine_for
from server.settings import SettingsError, from_env


def _settings():
    try:
        return from_env()
    except SettingsError as exc:
        sys.exit(f"bintang: {exc}")


def cmd_migrate(_args: argparse.Namespace) -> None:
    engine = engine_for(_settings())
    migrate.upgrade(engine)
    with Session(engine) as session:
        demo.seed_districts(session)
        session.commit()
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
        created = demo.seed_demo(session)
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


def _empty_metrics_folder(folder: str) -> None:
    """prometheus-client's rule for PROMETHEUS_MULTIPROC_DIR: empty at each start, or a new run adds up the files
    of processes long gone (their process ids may even come back)."""
    path = Path(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def cmd_run(args: argparse.Namespace) -> None:
    import uvicorn

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
    from server.notifications import push

    if args.generate:
        print(push.generate_private_key())
        return
    print(push.public_key(push.load_vapid(_settings())))


def cmd_worker(_args: argparse.Namespace) -> None:
    import signal
    import threading

    from server import logs, worker

    settings = _settings()
    logs.configure(settings.log_level)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.run_until(stop, engine_for(settings), settings)


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

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
