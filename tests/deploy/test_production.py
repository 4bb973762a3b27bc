"""The production install, proven on this machine (`make test-production`; issue 20).

deploy/install renders everything for `localhost` with `--tls internal` into a temporary root, on a fresh
PostgreSQL database with an owner role (which migrates) and an app role (granted by `bintang grant-app-role`).
Then the web processes, the worker and Caddy run with the command lines and settings of the rendered units, and
Chromium, trusting Caddy's root CA through an NSS database in its own HOME, opens the HTTPS address on a phone.

This machine has no systemd as PID 1, so the processes run as the test's user, under only the two settings of the
units' sandbox a process can apply to itself (MemoryDenyWriteExecute and NoNewPrivileges, see SANDBOX), and a few
things are substituted, each in one place below:
- ports: the web processes listen on a free port instead of 8000 (`--port 8000` in ExecStart, and Caddy's
  `reverse_proxy 127.0.0.1:8000`), and Caddy on free HTTP/HTTPS ports (`http_port`/`https_port` global options);
- Caddy's storage (its CA and certificates) is a temporary folder, and it does not touch the system's trust store
  (`storage` and `skip_install_trust` global options);
- the off-host backup target is rclone's append-only restic REST server on 127.0.0.1 (as tests/backups/
  test_off_host.py runs it), over plain http;
- PUSH_ALLOWED_HOSTS names the local push service (web-push-testing on 127.0.0.1 over http), which production never
  needs, and DISPATCH_INTERVAL_SECONDS=1 so the test waits less for the worker.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.test_reports import fill_report, open_with_code, read_receipt, submit_report
from tests.pushservice import push_service
from tests.servers import ROOT, free_port, pause, stop
from tests.support.browser import wait_until_controlled

pytestmark = [pytest.mark.production, pytest.mark.real_clock]

INSTALL = ROOT / "deploy" / "install"
DOMAIN = "localhost"
EMAIL = "ops@example.go.id"
SUPERVISOR = "pengawas"
SUPERVISOR_PASSWORD = "Lembayung-senja-di-Banjarbaru-2026"
NEWS = "Bintang Ceria: ada kabar baru untuk Anda"
# What systemd gives every service before its own Environment= lines.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WAIT_SECONDS = 60


def postgres_server() -> str:
    """The server of TEST_DATABASE_URL when set (as CI runs it), else the local one; as a superuser URL prefix."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    match = re.match(r"postgresql://([^/]+)/", url)
    return f"postgresql://{match.group(1)}" if match else "postgresql://postgres@127.0.0.1:5432"


def psql(server: str, *statements: str) -> None:
    for statement in statements:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{server}/postgres", "-c", statement],
                       check=True, capture_output=True)


@dataclass(frozen=True)
class Database:
    app_url: str
    owner_url: str


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    """A fresh database owned by its own owner role, and an app role that owns nothing (as on a server)."""
    server = postgres_server()
    name = f"bintang_production_{os.getpid()}"
    owner, app = f"{name}_owner", f"{name}_app"
    psql(server, f"CREATE ROLE {owner} LOGIN CREATEDB", f"CREATE ROLE {app} LOGIN", f"CREATE DATABASE {name} OWNER {owner}")
    host = server.split("@", 1)[-1]
    try:
        yield Database(f"postgresql://{app}@{host}/{name}", f"postgresql://{owner}@{host}/{name}")
    finally:
        psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"DROP ROLE IF EXISTS {app}",
             f"DROP ROLE IF EXISTS {owner}")


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under `root`: mode, modification time and content digest."""
    found = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        found[str(path.relative_to(root))] = (stat.st_mode, stat.st_mtime_ns if not path.is_dir() else 0, digest)
    return found


@dataclass(frozen=True)
class Installed:
    root: Path
    first: str
    second: str
    before: dict[str, tuple[int, int, str]]
    after: dict[str, tuple[int, int, str]]

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def units(self) -> list[Path]:
        return sorted(self.path("/etc/systemd/system").iterdir())


@dataclass(frozen=True)
class Offsite:
    """The Dinas's own backup key (made with `bintang backup-key`, kept off the server) and the off-host target."""

    recipient: str
    identity: Path
    remote: str
    password_file: Path
    folder: Path

    def arguments(self) -> list[str]:
        return ["--backup-recipient", self.recipient, "--backup-remote", self.remote,
                "--backup-remote-password-file", str(self.password_file)]


def install(root: Path, database: Database, offsite: Offsite, installer: Path = INSTALL) -> str:
    result = subprocess.run(
        [str(installer), "--root", str(root), "--domain", DOMAIN, "--email", EMAIL, "--tls", "internal",
         "--database-url", database.app_url, "--owner-database-url", database.owner_url, *offsite.arguments()],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder of this module's own, not pytest's numbered ones: other pytest runs on the machine delete those
    they think old, and the services run from here for minutes."""
    folder = Path(tempfile.mkdtemp(prefix="bintang-production-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def offsite(workdir: Path) -> Iterator[Offsite]:
    folder = workdir / "backup-host"
    folder.mkdir()
    port = free_port()
    with open(workdir / "rclone.log", "wb") as log:
        process = subprocess.Popen(["rclone", "serve", "restic", "--append-only", "--addr", f"127.0.0.1:{port}",
                                    str(folder)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/"), "rclone's restic server did not answer")
        identity = workdir / "dinas-backup-identity.txt"
        made = subprocess.run([str(ROOT / ".venv" / "bin" / "bintang"), "backup-key", str(identity)],
                              capture_output=True, text=True, check=True)
        password_file = workdir / "backup-remote-password"
        password_file.write_text("kata-sandi-repositori-luar-2026\n")
        yield Offsite(made.stdout.strip().splitlines()[-1], identity, f"rest:http://127.0.0.1:{port}/bintang",
                      password_file, folder)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def installed(workdir: Path, database: Database, offsite: Offsite) -> Installed:
    root = workdir / "root"
    root.mkdir()
    first = install(root, database, offsite)
    before = snapshot(root)
    second = install(root, database, offsite)
    return Installed(root, first, second, before, snapshot(root))


def test_the_installer_run_again_changes_no_file(installed: Installed):
    assert "code: installing" in installed.first
    assert "code: already installed" in installed.second
    assert "nothing changed" in installed.second
    assert installed.after == installed.before
    # Code, data, secrets and backups each in their own place.
    for folder in ("opt/bintang/app/server", "opt/bintang/venv/bin", "var/lib/bintang", "etc/bintang",
                   "var/backups/bintang", "etc/caddy"):
        assert installed.path(folder).is_dir(), folder


def test_the_install_ends_with_the_first_supervisors_one_time_link(installed: Installed):
    first, second = (output.strip().splitlines()[-1] for output in (installed.first, installed.second))
    assert re.fullmatch(rf"https://{DOMAIN}/\S+\?t=\S+", first), installed.first
    # No password was set in between: a second run makes a new link, and the first one no longer works.
    assert re.fullmatch(rf"https://{DOMAIN}/\S+\?t=\S+", second), installed.second
    assert second != first, installed.second


def test_the_settings_file_is_private_and_its_secrets_were_made_once(installed: Installed):
    env_file = installed.path("/etc/bintang/bintang.env")
    assert env_file.stat().st_mode & 0o777 == 0o600
    settings = unit_environment(env_file)
    assert settings["BINTANG_ENV"] == "production"
    assert settings["COOKIE_SECURE"] == "1"
    assert len(settings["SECRET_KEY"]) >= 32
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", settings["VAPID_PRIVATE_KEY"])
    assert settings["VAPID_SUBJECT"] == f"mailto:{EMAIL}"
    assert settings["DATA_DIR"] == str(installed.path("/var/lib/bintang"))
    assert settings["WEB_CONCURRENCY"] == str(max(2, os.cpu_count() or 1))
    assert "kata-sandi-repositori-luar" not in installed.first + installed.second


def test_the_first_install_backs_up_off_the_host_and_verifies(installed: Installed, offsite: Offsite):
    settings = unit_environment(installed.path("/etc/bintang/bintang.env"))
    identity = installed.path("/etc/credstore/bintang-backup-identity")
    assert identity.stat().st_mode & 0o777 == 0o600
    verify_recipient = re.search(r"^# public key: (age1\S+)$", identity.read_text(), re.M).group(1)
    # The server's verify key and the Dinas's own, each once after two runs.
    assert settings["BACKUP_RECIPIENTS"] == f"{verify_recipient},{offsite.recipient}"
    assert settings["BACKUP_REMOTE"] == offsite.remote
    assert settings["BACKUP_REMOTE_PASSWORD"] == "kata-sandi-repositori-luar-2026"
    assert installed.path("/var/backups/bintang").stat().st_mode & 0o777 == 0o700
    archives = sorted(installed.path("/var/backups/bintang").iterdir())
    assert len(archives) == 1, archives  # one from the first run; the second had nothing to migrate
    assert "backups: first backup and its verification" in installed.first
    assert "backups: first backup" not in installed.second
    assert any(offsite.folder.rglob("snapshots/*")), "nothing reached the backup host"
    assert "pgBackRest: --root: rendered its files only" in installed.first
    assert installed.path("/etc/pgbackrest.conf").stat().st_mode & 0o777 == 0o640
    assert installed.path("/var/lib/bintang").stat().st_mode & 0o777 == 0o700


def test_every_unit_passes_systemd_analyze_verify(installed: Installed):
    names = [unit.name for unit in installed.units]
    assert {"bintang.target", "bintang-web.service", "bintang-worker.service"} <= set(names)
    assert names == sorted(p.name for p in (ROOT / "deploy" / "systemd").iterdir())
    for unit in installed.units:
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
        assert (result.returncode, result.stdout + result.stderr) == (0, ""), unit.name


def test_every_service_is_sandboxed_to_an_ok_exposure(installed: Installed):
    for unit in installed.units:
        if unit.suffix != ".service":
            continue
        result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True,
                                text=True)
        exposure = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", result.stdout)
        assert exposure, result.stdout + result.stderr
        print(f"{unit.name}: exposure {exposure.group(1)} {exposure.group(2)}")
        assert float(exposure.group(1)) <= 3.9, unit.name
        assert exposure.group(2) == "OK", unit.name


def test_caddy_validates_the_rendered_caddyfile(installed: Installed, tmp_path: Path):
    caddyfile = installed.path("/etc/caddy/Caddyfile")
    text = caddyfile.read_text()
    assert "admin off" in text
    assert "tls internal" in text
    result = subprocess.run(["caddy", "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
                            capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


# --- the running service ---------------------------------------------------------------------------------------


def unit_environment(env_file: Path) -> dict[str, str]:
    values = {}
    for line in env_file.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class Unit:
    command: list[str]
    environment: dict[str, str]
    directory: Path
    settings: dict[str, str]


# Two of the unit's sandbox settings that a process can apply to itself without systemd, before it becomes the
# unit's command (both hold across exec): MemoryDenyWriteExecute (the kernel's PR_SET_MDWE, Linux 6.3+) and
# NoNewPrivileges. So the test shows that the app, its workers and its crypto run under them.
SANDBOX = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
settings = dict(item.split("=", 1) for item in sys.argv[1].split(",") if item)
if settings.get("NoNewPrivileges") == "yes" and libc.prctl(38, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_NO_NEW_PRIVS failed")
if settings.get("MemoryDenyWriteExecute") == "yes" and libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE failed: this kernel cannot apply MemoryDenyWriteExecute")
os.execv(sys.argv[2], sys.argv[2:])
"""


def read_unit(path: Path) -> Unit:
    """ExecStart, Environment, EnvironmentFile and WorkingDirectory of a unit's [Service] section, as systemd reads
    them: EnvironmentFile's variables win over Environment's."""
    section, command, directory, settings = "", [], Path("/"), {}
    environment = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
    from_file: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        if section != "[Service]" or "=" not in line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key] = value
        if key == "ExecStart":
            command = shlex.split(value)
        elif key == "Environment":
            environment.update(item.split("=", 1) for item in shlex.split(value))
        elif key == "EnvironmentFile":
            from_file.update(unit_environment(Path(value)))
        elif key == "WorkingDirectory":
            directory = Path(value)
    environment = {**environment, **from_file}
    # systemd puts ${NAME} of the environment into the command line.
    command = [re.sub(r"\$\{(\w+)\}", lambda m: environment[m.group(1)], part) for part in command]
    return Unit(command, environment, directory, settings)


def start(unit: Unit, log: Path, **test_only: str) -> subprocess.Popen:
    sandbox = ",".join(f"{key}={unit.settings.get(key, '')}" for key in ("NoNewPrivileges", "MemoryDenyWriteExecute"))
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-c", SANDBOX, sandbox, *unit.command], cwd=unit.directory,
                                env={**unit.environment, **test_only}, stdout=output, stderr=subprocess.STDOUT)


def wait_until(condition, failure: str | Callable[[], str], timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        pause(0.2)  # polling interval while waiting for the condition
    raise AssertionError(failure if isinstance(failure, str) else failure())


def answers(url: str, **kwargs) -> bool:
    try:
        httpx.get(url, timeout=2.0, **kwargs)
        return True
    except httpx.TransportError:
        return False


def children(pid: int) -> list[str]:
    """The command lines of a process's children (uvicorn's worker processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append((entry / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue
    return found


@dataclass
class Stack:
    base_url: str
    http_url: str
    root_ca: Path
    unit_env: dict[str, str]
    worker: Unit
    logs: Path
    push_host: str
    processes: dict[str, subprocess.Popen]
    app_url: str


@pytest.fixture(scope="module")
def push():
    with push_service() as service:
        yield service


@pytest.fixture(scope="module")
def stack(installed: Installed, workdir: Path, push) -> Iterator[Stack]:
    logs = workdir / "logs"
    logs.mkdir()
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    test_only = {"PUSH_ALLOWED_HOSTS": push.host, "DISPATCH_INTERVAL_SECONDS": "1"}
    processes: dict[str, subprocess.Popen] = {}
    try:
        web = read_unit(installed.path("/etc/systemd/system/bintang-web.service"))
        assert web.environment["DISPATCHER"] == "off"
        assert web.environment["TRUSTED_PROXIES"] == "127.0.0.1"
        assert web.command[web.command.index("--host") + 1] == "127.0.0.1"
        web.command[web.command.index("--port") + 1] = str(app_port)  # substituted: see the module's docstring
        processes["web"] = start(web, logs / "web.log", **test_only)
        worker = read_unit(installed.path("/etc/systemd/system/bintang-worker.service"))
        assert worker.command[-2:] == ["bintang", "worker"] or worker.command[-1] == "worker"
        processes["worker"] = start(worker, logs / "worker.log", **test_only)

        storage = workdir / "caddy"
        storage.mkdir()
        caddyfile = installed.path("/etc/caddy/Caddyfile").read_text()
        # Substituted: see the module's docstring.
        caddyfile = caddyfile.replace("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{app_port}")
        caddyfile = caddyfile.replace("\tadmin off\n", f"\tadmin off\n\thttp_port {http_port}\n\thttps_port "
                                      f"{https_port}\n\tskip_install_trust\n\tstorage file_system {{\n\t\troot "
                                      f"{storage}\n\t}}\n", 1)
        (storage / "Caddyfile").write_text(caddyfile)
        with (logs / "caddy.log").open("ab") as output:
            processes["caddy"] = subprocess.Popen(
                ["caddy", "run", "--config", str(storage / "Caddyfile"), "--adapter", "caddyfile"],
                env={**os.environ, "HOME": str(storage)}, stdout=output, stderr=subprocess.STDOUT)
        root_ca = storage / "pki" / "authorities" / "local" / "root.crt"
        wait_until(lambda: root_ca.exists() and answers(f"https://{DOMAIN}:{https_port}/healthz", verify=False),
                   lambda: f"Caddy did not answer on {https_port}: {(logs / 'caddy.log').read_text()[-3000:]}")

        def app_answers() -> bool:
            if processes["web"].poll() is not None:
                raise AssertionError(f"the web processes ended: {(logs / 'web.log').read_text()[-3000:]}")
            return httpx.get(f"https://{DOMAIN}:{https_port}/healthz",
                             verify=ssl.create_default_context(cafile=root_ca)).status_code == 200

        # A first start on a busy 2-core machine can take a while (every module imported afresh).
        wait_until(app_answers, lambda: f"the app did not answer through Caddy: {(logs / 'web.log').read_text()[-3000:]}",
                   timeout=180)
        yield Stack(f"https://{DOMAIN}:{https_port}", f"http://{DOMAIN}:{http_port}", root_ca, web.environment,
                    worker, logs, push.host, processes, f"http://127.0.0.1:{app_port}")
    finally:
        for process in processes.values():
            stop(process)


@pytest.fixture(scope="module")
def phone_browser(stack: Stack, workdir: Path) -> Iterator[Browser]:
    """Debian's Chromium with a HOME whose NSS database trusts Caddy's root CA, as a phone's would trust the
    public CA that issues a real certificate: no --ignore-certificate-errors."""
    home = workdir / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "caddy", "-i", str(stack.root_ca)],
                   check=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", env={**os.environ, "HOME": str(home)},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        launched.phone = playwright.devices["Pixel 7"]
        yield launched
        launched.close()


def phone(browser: Browser, stack: Stack) -> Page:
    return browser.new_context(**browser.phone, base_url=stack.base_url).new_page()


def test_two_web_processes_and_a_worker_run_from_the_units(stack: Stack):
    web_children = [line for line in children(stack.processes["web"].pid) if "spawn_main" in line]
    assert len(web_children) == int(stack.unit_env["WEB_CONCURRENCY"]) == 2
    assert stack.processes["worker"].poll() is None


def test_plain_http_is_sent_to_https(stack: Stack):
    response = httpx.get(f"{stack.http_url}/lapor?x=1", follow_redirects=False)
    assert response.status_code == 308
    # Caddy 2.6 names the standard port (443) in the redirect, whatever https_port the test gave it.
    assert response.headers["location"] == f"https://{DOMAIN}/lapor?x=1"


def test_versioned_static_files_are_cached_for_a_year_and_text_is_compressed(stack: Stack):
    with httpx.Client(base_url=stack.base_url, verify=ssl.create_default_context(cafile=stack.root_ca)) as client:
        home = client.get("/", headers={"Accept-Encoding": "gzip"})
        assert home.status_code == 200
        assert home.headers["content-encoding"] in ("gzip", "br", "zstd")
        css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', home.text).group(1)
        versioned = client.get(css)
        assert versioned.status_code == 200
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        plain = client.get("/static/css/app.css")
        assert plain.status_code == 200
        assert plain.headers["cache-control"] == "no-cache"
        too_big = client.post("/lapor", content=b"x" * (2 * 1024 * 1024),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert too_big.status_code == 413


@pytest.fixture(scope="module")
def supervisor_account(stack: Stack) -> str:
    """A supervisor, made as an operator would with the worker unit's command and settings."""
    subprocess.run([*stack.worker.command[:-1], "create-user", SUPERVISOR, "--name", "Pengawas Dinas", "--role",
                    "supervisor", "--password", SUPERVISOR_PASSWORD], env=stack.worker.environment,
                   cwd=stack.worker.directory, check=True, capture_output=True)
    return SUPERVISOR


def signed_in_supervisor(browser: Browser, stack: Stack, username: str) -> Page:
    supervisor = phone(browser, stack)
    supervisor.goto("/masuk")
    supervisor.get_by_label("Nama pengguna").fill(username)
    supervisor.get_by_label("Kata sandi").fill(SUPERVISOR_PASSWORD)
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name="Masuk", exact=True).click()
    expect(supervisor.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()
    return supervisor


def test_a_phone_reports_over_https_and_push_reaches_the_supervisor(stack: Stack, phone_browser: Browser, push,
                                                                    supervisor_account: str):
    child = phone(phone_browser, stack)
    response = child.goto("/")
    assert response.status == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    wait_until_controlled(child)

    supervisor = signed_in_supervisor(phone_browser, stack, supervisor_account)
    cookies = {cookie["name"]: cookie for cookie in supervisor.context.cookies()}
    assert {"__Host-bc_session", "__Host-bc_csrf"} <= set(cookies), cookies
    assert all(cookie["secure"] for cookie in cookies.values())
    # The supervisor's phone subscribes at the push service with the app's key, as push.js does.
    key = supervisor.evaluate("() => fetch('/push/kunci').then((r) => r.json()).then((k) => k.publicKey)")
    device = push.subscribe(key)
    status = supervisor.evaluate(
        """(subscription) => fetch('/push/langganan', {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content},
             body: JSON.stringify(subscription)}).then((r) => r.status)""", device.subscription)
    assert status == 200

    child.goto("/lapor")
    words = "Aku dipukul kakak kelas di kantin setiap hari."
    fill_report(child, who="Aku anak/remaja, dan ini tentang diriku",
                category="Disakiti badannya — dipukul, ditendang", words=words)
    submit_report(child)
    code, pin = read_receipt(child)
    open_with_code(child, code, pin)
    expect(child.locator("[data-reporter-status]")).to_have_text("Diterima")
    cookies = {cookie["name"]: cookie for cookie in child.context.cookies()}
    assert "__Host-bc_case" in cookies, cookies
    assert all(cookie["secure"] for cookie in cookies.values()), cookies
    assert all(name.startswith("__Host-") or cookie["path"] != "/" for name, cookie in cookies.items()), cookies

    child.get_by_role("textbox", name="Tulis pesan untuk konselor").fill("Kak, aku takut ke sekolah besok.")
    with child.expect_navigation():
        child.get_by_role("button", name="Kirim pesan", exact=True).click()
    expect(child.locator(".message--mine")).to_have_count(1)

    # The worker (the worker unit's command) sends it; the push service checked the VAPID signature and decrypted.
    payloads = wait_until(lambda: push.payloads(device), "the supervisor's device got no push",
                          timeout=WAIT_SECONDS)
    assert [payload["body"] for payload in payloads] == [NEWS]
    assert re.fullmatch(r"/kasus/\d+", payloads[0]["url"])
    child.context.close()
    supervisor.context.close()


def test_metrics_answer_on_the_server_and_not_through_the_proxy_without_a_token(stack: Stack):
    outside = httpx.get(f"{stack.base_url}/metrics", verify=ssl.create_default_context(cafile=stack.root_ca))
    assert outside.status_code == 404
    assert "bintang_" not in outside.text
    inside = httpx.get(f"{stack.app_url}/metrics")
    assert inside.status_code == 200
    assert "bintang_http_requests_total" in inside.text
    assert "bintang_check_ok" in inside.text


def test_the_access_log_holds_no_query_string_and_no_address(stack: Stack):
    httpx.get(f"{stack.base_url}/cek?kode=RAHASIA-1234", verify=ssl.create_default_context(cafile=stack.root_ca))
    def logged() -> str:
        text = (stack.logs / "caddy.log").read_text()
        return text if '"uri":"/cek"' in text else ""

    log = wait_until(logged, "Caddy logged no request to /cek")
    assert "RAHASIA" not in log
    assert "kode=" not in log
    assert '"remote_ip"' not in log
    assert '"Cookie"' not in log


def readiness(stack: Stack) -> httpx.Response:
    return httpx.get(f"{stack.base_url}/readyz", verify=ssl.create_default_context(cafile=stack.root_ca))


def test_a_stopped_worker_turns_readiness_and_the_supervisor_page_red_within_a_minute(
        stack: Stack, phone_browser: Browser, supervisor_account: str):
    ready = wait_until(lambda: (answer := readiness(stack)).status_code == 200 and answer,
                       "not ready while the worker runs")
    checks = ready.json()["checks"]
    assert all(check["ok"] for check in checks.values()), checks
    assert {"backup_backup", "backup_verify", "backup_offhost"} <= set(checks), checks
    supervisor = signed_in_supervisor(phone_browser, stack, supervisor_account)
    supervisor.goto("/admin/kesehatan")
    expect(supervisor.locator("[data-health-state]")).to_have_text(
        "Semua pemeriksaan baik. Layanan berjalan seperti seharusnya.")

    stopped_at = time.monotonic()
    stop(stack.processes["worker"])
    red = wait_until(lambda: (answer := readiness(stack)).status_code == 503 and answer, "still ready",
                     timeout=75)
    assert time.monotonic() - stopped_at <= 61  # HEARTBEAT_MAX_AGE_SECONDS (60) after the worker's last round
    assert red.json()["checks"]["dispatcher"]["ok"] is False
    assert red.json()["checks"]["database"]["ok"] is True
    supervisor.goto("/admin/kesehatan")
    expect(supervisor.locator("[data-health-state]")).to_have_text(
        'Ada yang perlu segera ditangani: lihat pemeriksaan yang bertanda "Bermasalah" di bawah.')
    expect(supervisor.get_by_role("row", name=re.compile("Pengirim pemberitahuan Bermasalah"))).to_be_visible()
    banner = "Layanan bermasalah: Pengirim pemberitahuan. Lihat Kesehatan layanan."

    def shows_banner() -> bool:  # each process re-reads the checks for the banner within 10 s
        supervisor.goto("/admin")
        return supervisor.get_by_role("link", name=banner).is_visible()

    wait_until(shows_banner, "no banner on the supervisor's pages", timeout=20)

    stack.processes["worker"] = start(stack.worker, stack.logs / "worker.log", PUSH_ALLOWED_HOSTS=stack.push_host,
                                      DISPATCH_INTERVAL_SECONDS="1")
    started_at = time.monotonic()
    wait_until(lambda: readiness(stack).status_code == 200, "not ready again after the worker started")
    assert time.monotonic() - started_at <= 30
    supervisor.goto("/admin/kesehatan")
    expect(supervisor.locator("[data-health-state]")).to_have_text(
        "Semua pemeriksaan baik. Layanan berjalan seperti seharusnya.")
    wait_until(lambda: not shows_banner(), "the banner stayed after the worker started", timeout=20)
    supervisor.context.close()


def newer_checkout(workdir: Path) -> Path:
    """A copy of this checkout with one more file, as a newer release would have."""
    newer = workdir / "newer"
    for name in (*installer_code(), "deploy"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, newer / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
        else:
            newer.mkdir(exist_ok=True)
            shutil.copy2(source, newer / name)
    shutil.copytree(ROOT / "node_modules" / "htmx.org", newer / "node_modules" / "htmx.org")
    (newer / "docs" / "newer-release.md").write_text("# What is new\n")
    return newer


def installer_code() -> tuple[str, ...]:
    text = (ROOT / "deploy" / "installer.py").read_text()
    return tuple(re.findall(r'"([^"]+)"', re.search(r"^CODE = \(([^)]*)\)", text, re.M | re.S).group(1)))


def test_a_newer_checkout_upgrades_in_place_and_the_older_one_goes_back(installed: Installed, workdir: Path,
                                                                        database: Database, offsite: Offsite,
                                                                        supervisor_account: str):
    """Last in this module: it changes the installed code under the running services (as an upgrade does before
    it restarts them)."""
    newer = newer_checkout(workdir)
    result = install(installed.root, database, offsite, newer / "deploy" / "install")
    assert "code: installing" in result
    assert "database: migrating" in result
    # A supervisor has a password now: no new link, only where to sign in.
    assert result.strip().splitlines()[-1].startswith(
        f"bintang: supervisor {supervisor_account} already has a password; no setup link made"), result
    assert installed.path("/opt/bintang/app/docs/newer-release.md").read_text() == "# What is new\n"

    back = install(installed.root, database, offsite)
    assert "code: installing" in back
    assert not installed.path("/opt/bintang/app/docs/newer-release.md").exists()
    # Settings (secrets included), units and Caddyfile untouched by either.
    assert snapshot(installed.path("/etc")) == {key.removeprefix("etc/"): value for key, value in
                                               installed.before.items() if key.startswith("etc/")}
