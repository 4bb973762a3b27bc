"""The `bintang` command's newer parts: the VAPID key, the demo schedule, and the worker's stop on SIGTERM."""

import base64
import json
import os
import signal
import subprocess
import sys

from sqlalchemy import func, select
from sqlmodel import Session

from server import cli
from server.appointments.models import ServiceType, WeeklyHours
from server.db import make_engine
from server.notifications import push
from tests.servers import ROOT, wait_for_exit


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": "", **extra}


def test_vapid_prints_the_same_public_key_every_time_from_the_key_kept_in_the_data_dir(tmp_path, monkeypatch, capsys):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    cli.main(["vapid"])
    first = capsys.readouterr().out.strip()
    cli.main(["vapid"])
    assert capsys.readouterr().out.strip() == first
    raw = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))
    assert len(raw) == 65
    assert raw[0] == 4
    key_file = tmp_path / "var" / push.KEY_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_vapid_generate_makes_a_key_the_environment_can_hold(tmp_path, monkeypatch, capsys):
    cli.main(["vapid", "--generate"])
    key = capsys.readouterr().out.strip()
    for name, value in _env(tmp_path, VAPID_PRIVATE_KEY=key).items():
        monkeypatch.setenv(name, value)
    cli.main(["vapid"])
    public = capsys.readouterr().out.strip()
    from py_vapid import Vapid02

    assert public == push.public_key(Vapid02.from_string(key))
    assert not (tmp_path / "var" / push.KEY_FILE).exists(), "a key from the environment is never written to disk"


def test_seed_demo_adds_a_bookable_schedule_once(tmp_path, monkeypatch, capsys):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    cli.main(["migrate"])
    cli.main(["seed-demo", "--if-empty"])
    assert "service types" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'bintang.sqlite3'}")
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ServiceType)).scalar_one() == 2
        hours = session.execute(select(func.count()).select_from(WeeklyHours)).scalar_one()
    assert hours == 2 * 6  # two demo counselors, Monday to Saturday
    cli.main(["seed-demo"])
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ServiceType)).scalar_one() == 2
    engine.dispose()


def test_the_worker_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, **_env(tmp_path), "DISPATCH_INTERVAL_SECONDS": "0.2", "LOG_LEVEL": "INFO"}
    subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    # The worker logs "started" once its loop runs (a JSON line on standard output): wait for that line, then ask
    # it to stop.
    for line in worker.stdout:
        if json.loads(line).get("event") == "worker_started":
            break
    worker.send_signal(signal.SIGTERM)
    assert wait_for_exit(worker, timeout=30) == 0
    events = [json.loads(line) for line in worker.stdout.read().splitlines()]
    [stopped] = [event for event in events if event.get("event") == "worker_stopped"]
    assert stopped["message"] == f"worker {stopped['worker']} stopped"
    assert stopped["level"] == "INFO"
