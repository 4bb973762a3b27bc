"""Bintang Ceria's production install: one re-runnable command (deploy/install, which runs this as root).

Only the standard library: it runs on Debian's python3 before the app's virtual environment exists.

Each step changes a file only when its content differs, so a second run changes nothing; run from a newer
checkout it installs the new code, migrates (`upgrade_database`, the one step that later becomes `bintang
upgrade` with its backup first) and restarts. With `--root DIR` every path lives under DIR and what needs a real
system (apt, useradd, PostgreSQL roles, systemctl) is skipped, so tests can run it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

CHECKOUT = Path(__file__).resolve().parent.parent
DEPLOY = CHECKOUT / "deploy"
USER = "bintang"
DATABASE = "bintang"
OWNER_ROLE = "bintang_owner"
APP_ROLE = "bintang"
# The weekly backup verification restores into a scratch database it creates: a role of its own that may CREATE
# DATABASE and has no right in the live one (mapping the app's user to the owner would let the app rewrite the
# audit log).
VERIFY_ROLE = "bintang_verify"
PG_SOCKET = "/var/run/postgresql"
# What of the checkout the app needs at run time (server/settings.py ROOT is the folder that holds them).
CODE = ("server", "templates", "static", "service_worker", "docs", "pyproject.toml", "alembic.ini", "babel.cfg",
        "package.json", "package-lock.json")
SKIPPED = re.compile(r"(^|/)(__pycache__|.*\.pyc|.*\.mo)$")
HTMX = Path("node_modules") / "htmx.org"
PG_BLOCK_START = "# bintang (deploy/install): peer sign-in over the Unix socket, no passwords"
PG_BLOCK_END = "# end bintang"


class InstallError(RuntimeError):
    """Something the operator must fix; said in plain words, no traceback."""


@dataclass
class Layout:
    """Where everything goes. `root` is "/" on a real server; every other path is inside it."""

    root: Path
    domain: str
    email: str
    tls: str = "acme"  # "acme" (Let's Encrypt), "internal" (Caddy's own CA) or "files"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    database_url: str = ""  # --root only: the app's database (else peer auth over the socket)
    owner_database_url: str = ""  # --root only: the owner's, which migrates
    backup_recipients: list[str] = field(default_factory=list)  # the Dinas's own age keys (--backup-recipient)
    backup_remote: str = ""  # the off-host restic repository (--backup-remote)
    backup_remote_password_file: Path | None = None
    region_code: str = ""  # the Kemendagri code of the kabupaten/kota (--region-code); empty: keep what is set
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def real(self) -> bool:
        return self.root == Path("/")

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def variables(self) -> dict[str, str]:
        """The names unit templates may use (deploy/systemd/*; the backup timers use them too)."""
        return {
            "user": USER,
            "app_dir": str(self.path("/opt/bintang/app")),
            "venv": str(self.path("/opt/bintang/venv")),
            "data_dir": str(self.path("/var/lib/bintang")),
            "env_file": str(self.path("/etc/bintang/bintang.env")),
            "backup_dir": str(self.path("/var/backups/bintang")),
        }

    @property
    def app_dir(self) -> Path:
        return Path(self.variables["app_dir"])

    @property
    def venv(self) -> Path:
        return Path(self.variables["venv"])

    @property
    def env_file(self) -> Path:
        return Path(self.variables["env_file"])

    @property
    def units_dir(self) -> Path:
        return self.path("/etc/systemd/system")

    @property
    def caddyfile(self) -> Path:
        return self.path("/etc/caddy/Caddyfile")

    @property
    def tls_dir(self) -> Path:
        return self.path("/etc/caddy/bintang-tls")

    @property
    def backup_dir(self) -> Path:
        return Path(self.variables["backup_dir"])

    @property
    def backup_identity(self) -> Path:
        """The server's own verify key (bintang-backup-verify.service reads it as a systemd credential)."""
        return self.path("/etc/credstore/bintang-backup-identity")

    @property
    def pgbackrest_conf(self) -> Path:
        return self.path("/etc/pgbackrest.conf")

    def app_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"postgresql://{APP_ROLE}@/{DATABASE}?host={PG_SOCKET}"

    def owner_url(self) -> str:
        if self.owner_database_url:
            return self.owner_database_url
        return f"postgresql://{OWNER_ROLE}@/{DATABASE}?host={PG_SOCKET}"

    def verify_url(self) -> str:
        """Where the backup verification creates its scratch database (--root: the test's owner, which may)."""
        if self.owner_database_url:
            return self.owner_database_url
        return f"postgresql://{VERIFY_ROLE}@/postgres?host={PG_SOCKET}"


@dataclass
class Changes:
    """What this run changed, to know what to restart and to tell the operator."""

    files: list[Path] = field(default_factory=list)
    code: bool = False
    units: bool = False
    caddy: bool = False
    settings: bool = False

    def __bool__(self) -> bool:
        return bool(self.files)


def say(message: str) -> None:
    print(f"bintang-install: {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A command whose failure stops the install with its own words."""
    try:
        return subprocess.run(command, check=True, text=True, **kwargs)
    except subprocess.CalledProcessError as exc:
        raise InstallError(f"'{' '.join(command)}' failed with exit code {exc.returncode}") from exc


def write(path: Path, content: str | bytes, changes: Changes, *, mode: int = 0o644,
          owner: tuple[str, str] | None = None, layout: Layout | None = None) -> bool:
    """Write `content` to `path` only when it differs; set its mode (and owner on a real system) every time."""
    data = content.encode() if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    changed = not path.exists() or path.read_bytes() != data
    if changed:
        temporary = path.with_name(f".{path.name}.new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
        changes.files.append(path)
    if (path.stat().st_mode & 0o7777) != mode:
        os.chmod(path, mode)
    if owner and layout is not None and layout.real:
        shutil.chown(path, *owner)
    return changed


# --- settings ----------------------------------------------------------------------------------------------------


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (no quotes are written, so none are read)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def merge_recipients(*groups: str | list[str]) -> str:
    """Comma-separated age recipients, each once, in the order first seen (existing ones are never dropped)."""
    merged: list[str] = []
    for group in groups:
        for recipient in (group.split(",") if isinstance(group, str) else group):
            if recipient.strip() and recipient.strip() not in merged:
                merged.append(recipient.strip())
    return ",".join(merged)


def render_env(layout: Layout, existing: dict[str, str], vapid_key: str | None, verify_recipient: str = "",
               remote_password: str | None = None) -> str:
    """The settings file. Secrets are made once and kept: a re-run reads them back. What the operator added or
    changed (e.g. VAPID_SUBJECT, LOG_LEVEL, WEB_CONCURRENCY) is kept; only the installer's own lines are set."""
    values = dict(existing)
    values.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    if "VAPID_PRIVATE_KEY" not in values:
        if not vapid_key:
            raise InstallError("no VAPID key was generated")
        values["VAPID_PRIVATE_KEY"] = vapid_key
    values.setdefault("VAPID_SUBJECT", f"mailto:{layout.email}")
    values.setdefault("WEB_CONCURRENCY", str(max(2, layout.cores)))
    values.setdefault("LOG_LEVEL", "INFO")
    values.update({
        "BINTANG_ENV": "production",
        "COOKIE_SECURE": "1",
        "DATA_DIR": layout.variables["data_dir"],
        "DATABASE_URL": layout.app_url(),
        "BACKUP_DIR": layout.variables["backup_dir"],
        "BACKUP_VERIFY_DATABASE_URL": layout.verify_url(),
        "BACKUP_RECIPIENTS": merge_recipients(existing.get("BACKUP_RECIPIENTS", ""), verify_recipient,
                                              layout.backup_recipients),
    })
    if layout.backup_remote:
        values["BACKUP_REMOTE"] = layout.backup_remote
    if layout.region_code:
        values["REGION_CODE"] = layout.region_code
    if remote_password is not None:
        values["BACKUP_REMOTE_PASSWORD"] = remote_password
    lines = [
        "# Bintang Ceria settings (README: Settings). Secret: root only. deploy/install keeps SECRET_KEY and",
        "# VAPID_PRIVATE_KEY once made and whatever is added here; it sets BINTANG_ENV, COOKIE_SECURE, DATA_DIR,",
        "# DATABASE_URL, BACKUP_DIR and BACKUP_VERIFY_DATABASE_URL itself, adds to BACKUP_RECIPIENTS (never drops one)",
        "# and sets BACKUP_REMOTE(_PASSWORD) and REGION_CODE when given. After a change: systemctl restart bintang.target",
    ]
    lines += [f"{key}={values[key]}" for key in sorted(values)]
    return "\n".join(lines) + "\n"


def install_settings(layout: Layout, changes: Changes) -> dict[str, str]:
    existing = parse_env(layout.env_file.read_text()) if layout.env_file.exists() else {}
    vapid = None
    if "VAPID_PRIVATE_KEY" not in existing:
        vapid = run([str(layout.venv / "bin" / "bintang"), "vapid", "--generate"], capture_output=True,
                    env=minimal_env()).stdout.strip()
    layout.env_file.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.env_file.parent, 0o755)
    password = None
    if layout.backup_remote_password_file:
        password = layout.backup_remote_password_file.read_text().strip()
        if not password:
            raise InstallError(f"{layout.backup_remote_password_file} is empty: the off-host repository needs its "
                               "password")
    content = render_env(layout, existing, vapid, backup_identity(layout), password)
    if write(layout.env_file, content, changes, mode=0o600, owner=("root", "root"), layout=layout):
        changes.settings = True
    return parse_env(layout.env_file.read_text())


def backup_identity(layout: Layout) -> str:
    """The server's verify identity, made once (root's, 0600) and kept; its recipient, read back from the file."""
    identity = layout.backup_identity
    if not identity.exists():
        say(f"backups: making the server's verify key {identity}")
        identity.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(identity.parent, 0o700)
        run([str(layout.venv / "bin" / "bintang"), "backup-key", str(identity)], capture_output=True,
            env=minimal_env(), cwd=layout.app_dir)
    os.chmod(identity, 0o600)
    if layout.real:
        shutil.chown(identity, "root", "root")
    found = re.search(r"^# public key: (age1\S+)$", identity.read_text(), re.M)
    if not found:
        raise InstallError(f"{identity} names no public key: move it away (keep it: old backups need it) and run again")
    return found.group(1)


def install_packages(layout: Layout) -> None:
    """Debian's tools the backups need: restic (the off-host copy), the PostgreSQL client (pg_dump, psql) and
    pgBackRest (WAL archiving, point-in-time recovery)."""
    if not layout.real:
        return
    missing = [name for name in ("restic", "postgresql-client", "pgbackrest")
               if subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True,
                                 text=True).stdout != "install ok installed"]
    if missing:
        say(f"packages: installing {', '.join(missing)}")
        run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
            env=minimal_env(DEBIAN_FRONTEND="noninteractive"))


# --- code ----------------------------------------------------------------------------------------------------------


def code_files(checkout: Path) -> list[Path]:
    """The checkout's files the app runs from, relative to it, sorted."""
    found: list[Path] = []
    for name in CODE:
        top = checkout / name
        candidates = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        found += [p.relative_to(checkout) for p in candidates if not SKIPPED.search(p.relative_to(checkout).as_posix())]
    return sorted(found)


def source_digest(checkout: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for relative in files:
        digest.update(relative.as_posix().encode() + b"\0" + (checkout / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def minimal_env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root"),
            **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "npm_config_"))}, **extra}


def install_code(layout: Layout, changes: Changes) -> None:
    """Copy the checkout's code into the app folder and (re)build its virtual environment, when the code differs
    from what is installed (a digest of every file is kept beside the code)."""
    files = code_files(CHECKOUT)
    digest = source_digest(CHECKOUT, files)
    stamp = layout.app_dir.parent / "installed-source.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest and (layout.venv / "bin" / "bintang").exists():
        say("code: already installed")
        return
    say(f"code: installing into {layout.app_dir}")
    changes.code = True
    layout.app_dir.mkdir(parents=True, exist_ok=True)
    wanted = {relative.as_posix() for relative in files}
    for name in CODE:  # files the new checkout no longer has
        top = layout.app_dir / name
        if top.is_dir():
            for old in sorted(top.rglob("*"), reverse=True):
                relative = old.relative_to(layout.app_dir).as_posix()
                if old.is_file() and relative not in wanted and not SKIPPED.search(relative):
                    old.unlink()
    for relative in files:
        write(layout.app_dir / relative, (CHECKOUT / relative).read_bytes(), changes)
    install_htmx(layout, changes)
    install_venv(layout, changes)
    run([str(layout.venv / "bin" / "pybabel"), "compile", "-d", str(layout.app_dir / "server" / "translations"),
         "-D", "messages"], env=minimal_env(), capture_output=True)
    # The services may not write into the code folder: compile the bytecode now.
    run([str(layout.venv / "bin" / "python"), "-m", "compileall", "-q", str(layout.app_dir / "server")],
        env=minimal_env())
    write(stamp, digest + "\n", changes)


def install_venv(layout: Layout, changes: Changes) -> None:
    """The virtual environment, (re)installed when pyproject.toml (the dependencies and their pins) changed: the
    app is installed editable, so new code in the app folder needs no reinstall. Editable because the app reads
    templates/, static/ and the migrations beside server/ (server/settings.py ROOT)."""
    pyproject = hashlib.sha256((layout.app_dir / "pyproject.toml").read_bytes()).hexdigest()
    stamp = layout.app_dir.parent / "installed-pyproject.sha256"
    python = layout.venv / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == pyproject:
        return
    if not python.exists():
        run([sys.executable, "-m", "venv", str(layout.venv)], env=minimal_env())
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(pip + ["--upgrade", "pip"], env=minimal_env())
    run(pip + ["--editable", str(layout.app_dir)], env=minimal_env())
    frozen = run([str(python), "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                 env=minimal_env()).stdout
    write(layout.app_dir.parent / "installed-requirements.txt", frozen, changes)
    write(stamp, pyproject + "\n", changes)


def install_htmx(layout: Layout, changes: Changes) -> None:
    """htmx, served from our own origin: from the checkout's node_modules when `make setup` ran there, else
    `npm ci --omit=dev` (htmx alone) in the app folder."""
    source = CHECKOUT / HTMX
    target = layout.app_dir / HTMX
    if (source / "dist" / "htmx.min.js").exists():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            write(target / path.relative_to(source), path.read_bytes(), changes)
        return
    if not shutil.which("npm"):
        raise InstallError("htmx is missing: run `make setup` in the checkout, or install Debian's npm")
    run(["npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=layout.app_dir,
        env=minimal_env())


# --- system ------------------------------------------------------------------------------------------------------


def ensure_user(layout: Layout) -> None:
    if not layout.real:
        return
    if subprocess.run(["id", "-u", USER], capture_output=True).returncode != 0:
        say(f"system user {USER}: creating")
        run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/bintang", "--no-create-home",
             "--shell", "/usr/sbin/nologin", USER])


def ensure_directories(layout: Layout) -> None:
    """Data 0700 for the app's user only; backups 0700 too (root's tools write there); code read-only to it."""
    data = Path(layout.variables["data_dir"])
    backups = Path(layout.variables["backup_dir"])
    # The web processes' metrics (PROMETHEUS_MULTIPROC_DIR in bintang-web.service): it must exist before the app's
    # modules are imported, which is before `bintang run` could make it.
    metrics = data / "metrics"
    for directory in (data, metrics, backups, layout.app_dir.parent):
        directory.mkdir(parents=True, exist_ok=True)
    for private in (data, metrics, backups):
        os.chmod(private, 0o700)
    os.chmod(layout.app_dir.parent, 0o755)
    if layout.real:
        for private in (data, metrics, backups):
            shutil.chown(private, USER, USER)


def pg_hba_block(hba: str) -> str:
    """pg_hba.conf with our lines first (first match wins): the app's role from the system user of the same name,
    the owner's role only from root (who migrates) through the `bintang` map. Peer: no password anywhere."""
    block = "\n".join([
        PG_BLOCK_START,
        f"local   {DATABASE}   {APP_ROLE}   peer",
        f"local   {DATABASE}   {OWNER_ROLE}   peer map=bintang",
        f"local   all   {VERIFY_ROLE}   peer map=bintang",
        PG_BLOCK_END,
    ]) + "\n"
    pattern = re.compile(re.escape(PG_BLOCK_START) + r".*?" + re.escape(PG_BLOCK_END) + r"\n", re.S)
    if pattern.search(hba):
        return pattern.sub(lambda _m: block, hba, count=1)
    return block + hba


def pg_ident_lines(ident: str) -> str:
    for line in (f"bintang   root   {OWNER_ROLE}", f"bintang   {USER}   {VERIFY_ROLE}"):
        if not any(existing.split() == line.split() for existing in ident.splitlines()):
            ident = ident + ("" if ident.endswith("\n") or not ident else "\n") + line + "\n"
    return ident


def psql(sql: str, database: str = "postgres") -> str:
    return run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d",
                database, "-c", sql], capture_output=True).stdout.strip()


def ensure_database(layout: Layout, changes: Changes) -> None:
    """The database, owned by the owner role; both roles log in by peer over the socket."""
    if not layout.real:
        return
    if subprocess.run(["pg_isready", "-q", "-h", PG_SOCKET]).returncode != 0:
        systemctl("start", "postgresql.service")
    hba = Path(psql("SHOW hba_file"))
    ident = Path(psql("SHOW ident_file"))
    hba_changed = write(hba, pg_hba_block(hba.read_text()), changes, mode=0o640, owner=("postgres", "postgres"),
                        layout=layout)
    ident_changed = write(ident, pg_ident_lines(ident.read_text()), changes, mode=0o640,
                          owner=("postgres", "postgres"), layout=layout)
    if hba_changed or ident_changed:
        psql("SELECT pg_reload_conf()")
    for role, options in ((OWNER_ROLE, "LOGIN"), (APP_ROLE, "LOGIN"), (VERIFY_ROLE, "LOGIN CREATEDB")):
        if psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'") != "1":
            say(f"PostgreSQL: creating role {role}")
            psql(f"CREATE ROLE {role} {options}")
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":
        say(f"PostgreSQL: creating database {DATABASE}")
        psql(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE} ENCODING 'UTF8' TEMPLATE template0")
        psql(f"REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC")
        psql(f"GRANT CONNECT ON DATABASE {DATABASE} TO {APP_ROLE}")


def cluster() -> list[str]:
    """Debian's first PostgreSQL cluster: version and name."""
    listed = run(["pg_lsclusters", "--no-header"], capture_output=True).stdout.split()
    if len(listed) < 2:
        raise InstallError("no PostgreSQL cluster found (pg_lsclusters)")
    return listed[:2]


def bintang(layout: Layout, settings: dict[str, str], *arguments: str, database_url: str | None = None,
            as_app_user: bool = False, capture: bool = False) -> subprocess.CompletedProcess:
    """The app's own command with the production settings (and another database URL for the owner's steps)."""
    env = minimal_env(**{**settings, **({"DATABASE_URL": database_url} if database_url else {})})
    command = [str(layout.venv / "bin" / "bintang"), *arguments]
    if as_app_user and layout.real:
        command = ["runuser", "-u", USER, "--", *command]
    return run(command, env=env, cwd=layout.app_dir, capture_output=capture)


def upgrade_database(layout: Layout, settings: dict[str, str]) -> None:
    """`bintang upgrade` as the owner: a backup first (none for an empty database, none when nothing is to
    migrate), then every migration in one transaction; then the app role's grants. The installer restarts the
    units itself afterwards."""
    say("database: migrating")
    bintang(layout, settings, "upgrade", "--no-restart", database_url=layout.owner_url())
    if layout.real:  # the archive root's upgrade took: the app's user prunes it and the verify unit reads it
        for archive in layout.backup_dir.iterdir():
            shutil.chown(archive, USER, USER)
    app_role = re.match(r"postgresql://([^@:/]+)", layout.app_url())
    if not app_role:
        raise InstallError("the app's DATABASE_URL names no role")
    bintang(layout, settings, "grant-app-role", app_role.group(1), database_url=layout.owner_url())


# --- pgBackRest (docs/operations.md: Point-in-time recovery) ----------------------------------------------------

STANZA = "bintang"


def pgbackrest_values(layout: Layout, cipher_pass: str) -> dict[str, str]:
    if layout.real:
        version, name = cluster()
        port = run(["pg_conftool", "-s", version, name, "show", "port"], capture_output=True).stdout.strip()
        pg_path = f"/var/lib/postgresql/{version}/{name}"
    else:  # rendered only: the test's paths, the local cluster's defaults
        port, pg_path = "5432", str(layout.path("/var/lib/postgresql/15/main"))
    return {
        "config": "/etc/pgbackrest.conf" if layout.real else str(layout.pgbackrest_conf),
        "stanza": STANZA,
        "repo_path": str(layout.path("/var/lib/pgbackrest")),
        "cipher_pass": cipher_pass,
        "log_path": str(layout.path("/var/log/pgbackrest")),
        "lock_path": str(layout.path("/tmp/pgbackrest")),
        "spool_path": str(layout.path("/var/spool/pgbackrest")),
        "pg_path": pg_path,
        "socket_path": PG_SOCKET,
        "port": port or "5432",
    }


def archiving_conf(layout: Layout) -> Path:
    version, name = cluster() if layout.real else ("15", "main")
    return layout.path(f"/etc/postgresql/{version}/{name}/conf.d/bintang-archiving.conf")


def install_pgbackrest(layout: Layout, changes: Changes) -> None:
    """pgbackrest.conf (its cipher passphrase made once and kept: the repository cannot be read without it) and
    PostgreSQL's archiving lines; on a real system then the stanza, a check, a first full backup if there is none,
    and the timers."""
    conf = layout.pgbackrest_conf
    existing = re.search(r"^repo1-cipher-pass=(\S+)$", conf.read_text(), re.M) if conf.exists() else None
    cipher_pass = existing.group(1) if existing else secrets.token_urlsafe(48)
    values = pgbackrest_values(layout, cipher_pass)
    text = Template((DEPLOY / "pgbackrest" / "pgbackrest.conf").read_text()).substitute(values)
    write(conf, text, changes, mode=0o640, owner=("root", "postgres"), layout=layout)
    if not existing:
        say(f"pgBackRest: a new repository passphrase is in {conf} (repo1-cipher-pass): print it and keep it in "
            "the safe with the backup key; without it the point-in-time backups cannot be read")
    archiving = Template((DEPLOY / "pgbackrest" / "postgresql.conf").read_text()).substitute(values)
    archiving_changed = write(archiving_conf(layout), archiving, changes, mode=0o644,
                              owner=("postgres", "postgres"), layout=layout)
    for folder in ("repo_path", "log_path", "spool_path"):
        Path(values[folder]).mkdir(parents=True, exist_ok=True)
        os.chmod(values[folder], 0o750)
        if layout.real:
            shutil.chown(values[folder], "postgres", "postgres")
    units = []
    for template in sorted((DEPLOY / "pgbackrest").glob("*.*")):
        if template.suffix in (".service", ".timer"):
            if layout.real and write(layout.units_dir / template.name,
                                     Template(template.read_text()).substitute(values), changes):
                changes.units = True
            units.append(template.name)
    if not layout.real:
        say("pgBackRest: --root: rendered its files only; no PostgreSQL restart, stanza, check, backup or timers")
        return
    if archiving_changed:
        say("PostgreSQL: restarting (WAL archiving changed)")
        systemctl("restart", "postgresql.service")
    as_postgres = ["runuser", "-u", "postgres", "--", "pgbackrest", f"--config={values['config']}",
                   f"--stanza={STANZA}"]
    run([*as_postgres, "stanza-create"], capture_output=True)
    run([*as_postgres, "check"], capture_output=True)
    info = run([*as_postgres, "info", "--output=json"], capture_output=True).stdout
    if '"label"' not in info:
        say("pgBackRest: first full backup")
        run([*as_postgres, "--type=full", "backup"])
    if changes.units:
        systemctl("daemon-reload")
    systemctl("enable", "--now", "--quiet", *[name for name in units if name.endswith(".timer")])


# --- backups: the first run, so that the health lights start green ---------------------------------------------


def has_archive(layout: Layout) -> bool:
    return layout.backup_dir.is_dir() and any(layout.backup_dir.iterdir())


def first_backup(layout: Layout, settings: dict[str, str]) -> None:
    """One backup (and its off-host copy) and one verify, as the timers' units would run them."""
    say("backups: first backup and its verification")
    if layout.real:
        systemctl("start", "bintang-backup.service")
        systemctl("start", "bintang-backup-verify.service")
        return
    bintang(layout, settings, "backup", capture=True)
    bintang(layout, settings, "backup", "verify", "--identity", str(layout.backup_identity), capture=True)


# --- systemd and Caddy -------------------------------------------------------------------------------------------


def render_unit(template: str, layout: Layout) -> str:
    return Template(template).substitute(layout.variables)


def install_units(layout: Layout, changes: Changes) -> list[str]:
    """Every file in deploy/systemd/, rendered: units added there later (the backup timers) come along."""
    names = []
    for template in sorted((DEPLOY / "systemd").iterdir()):
        if template.suffix not in (".service", ".timer", ".target", ".socket", ".path"):
            continue
        if write(layout.units_dir / template.name, render_unit(template.read_text(), layout), changes):
            changes.units = True
        names.append(template.name)
    return names


def caddy_tls(layout: Layout) -> str:
    if layout.tls == "internal":
        return "\ttls internal"
    if layout.tls == "files":
        return f"\ttls {layout.tls_dir / 'cert.pem'} {layout.tls_dir / 'key.pem'}"
    return f"\ttls {layout.email}"


def render_caddyfile(layout: Layout) -> str:
    template = (DEPLOY / "caddy" / "Caddyfile").read_text()
    global_options = f"\temail {layout.email}" if layout.tls == "acme" else ""
    return Template(template).substitute(site=layout.domain, tls=caddy_tls(layout), global_options=global_options)


def install_caddy(layout: Layout, changes: Changes) -> None:
    if layout.tls == "files":
        # Caddy runs as its own user: it reads a copy, the key readable by its group only.
        write(layout.tls_dir / "cert.pem", layout.tls_cert.read_bytes(), changes, mode=0o644)
        if write(layout.tls_dir / "key.pem", layout.tls_key.read_bytes(), changes, mode=0o640,
                 owner=("root", "caddy"), layout=layout):
            changes.caddy = True
    if write(layout.caddyfile, render_caddyfile(layout), changes):
        changes.caddy = True


def systemctl(*arguments: str) -> None:
    run(["systemctl", *arguments])


def start_services(layout: Layout, changes: Changes, units: list[str]) -> None:
    if not layout.real:
        return
    if changes.units:
        systemctl("daemon-reload")
    enabled = [name for name in units if name.endswith((".target", ".timer"))]
    systemctl("enable", "--quiet", *enabled, "bintang-web.service", "bintang-worker.service")
    if changes.code or changes.units or changes.settings:
        say("services: restarting")
        systemctl("restart", "bintang.target", "bintang-web.service", "bintang-worker.service")
    else:
        systemctl("start", "bintang.target")
    timers = [name for name in units if name.endswith(".timer")]
    if timers:
        systemctl("start", *timers)
    systemctl("enable", "--quiet", "caddy.service")
    # The admin API is off: a changed Caddyfile needs a restart, not a reload.
    systemctl("restart" if changes.caddy else "start", "caddy.service")


def first_supervisor_link(layout: Layout, settings: dict[str, str]) -> None:
    """The last thing printed: the one-time link where the first supervisor sets a password and two-factor
    sign-in (or that one is already set up)."""
    bintang(layout, settings, "setup-link", "--base-url", f"https://{layout.domain}", as_app_user=True)


# --- the command -------------------------------------------------------------------------------------------------


def install(layout: Layout) -> Changes:
    changes = Changes()
    install_packages(layout)
    ensure_user(layout)
    ensure_directories(layout)
    install_code(layout, changes)
    settings = install_settings(layout, changes)
    ensure_database(layout, changes)
    install_pgbackrest(layout, changes)
    first = not has_archive(layout)
    upgrade_database(layout, settings)
    units = install_units(layout, changes)
    install_caddy(layout, changes)
    start_services(layout, changes, units)
    if first:
        first_backup(layout, settings)
    say(f"changed: {', '.join(str(path) for path in changes.files)}" if changes else "nothing changed")
    first_supervisor_link(layout, settings)
    return changes


DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def parse(argv: list[str]) -> Layout:
    parser = argparse.ArgumentParser(prog="deploy/install", description="Install or upgrade Bintang Ceria.")
    parser.add_argument("--domain", required=True, help="the public name, e.g. bintang.example.go.id")
    parser.add_argument("--email", required=True, help="the operator's address (certificate authority, push)")
    parser.add_argument("--tls", choices=["acme", "internal"], default="acme",
                        help="acme: Let's Encrypt (default); internal: Caddy's own CA (intranet, tests)")
    parser.add_argument("--tls-cert", type=Path, help="a certificate (chain) file the Dinas already has")
    parser.add_argument("--tls-key", type=Path, help="its private key")
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="render into this folder instead of the system (tests); skips apt, users, systemctl")
    parser.add_argument("--database-url", default="", help="--root only: the app's PostgreSQL URL")
    parser.add_argument("--owner-database-url", default="", help="--root only: the owner's URL, which migrates")
    parser.add_argument("--backup-recipient", action="append", default=[], metavar="AGE1...",
                        help="the Dinas's own backup key (`bintang backup-key` on another machine); repeatable")
    parser.add_argument("--backup-remote", default="", metavar="URL",
                        help="the off-host restic repository, e.g. rest:https://backup.example.go.id/bintang")
    parser.add_argument("--backup-remote-password-file", type=Path, metavar="FILE",
                        help="a file holding that repository's password (never on the command line)")
    parser.add_argument("--region-code", default="", metavar="KODE",
                        help="the kabupaten/kota's Kemendagri code, e.g. 63.72 (Kota Banjarbaru, the default) or 32.76; "
                             "set before the first start: a database that holds reports keeps its region")
    args = parser.parse_args(argv)
    if args.region_code and not re.fullmatch(r"\d{2}\.?\d{2}", args.region_code):
        parser.error(f"not a Kemendagri kabupaten/kota code (like 63.72): {args.region_code!r}")
    for recipient in args.backup_recipient:
        if not re.fullmatch(r"age1[02-9ac-hj-np-z]{58}", recipient):
            parser.error(f"not an age recipient: {recipient!r}")
    if bool(args.backup_remote) != bool(args.backup_remote_password_file):
        parser.error("--backup-remote and --backup-remote-password-file go together")
    if args.backup_remote_password_file and not args.backup_remote_password_file.is_file():
        parser.error(f"no such file: {args.backup_remote_password_file}")
    if not DOMAIN.fullmatch(args.domain):
        parser.error(f"not a host name: {args.domain!r}")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", args.email):
        parser.error(f"not an e-mail address: {args.email!r}")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    tls = "files" if args.tls_cert else args.tls
    for path in (args.tls_cert, args.tls_key):
        if path and not path.is_file():
            parser.error(f"no such file: {path}")
    root = args.root.resolve()
    if root != Path("/") and not (args.database_url and args.owner_database_url):
        parser.error("--root needs --database-url and --owner-database-url")
    if root == Path("/") and (args.database_url or args.owner_database_url):
        parser.error("--database-url and --owner-database-url are for --root only")
    return Layout(root=root, domain=args.domain, email=args.email, tls=tls, tls_cert=args.tls_cert,
                  tls_key=args.tls_key, database_url=args.database_url, owner_database_url=args.owner_database_url,
                  backup_recipients=args.backup_recipient, backup_remote=args.backup_remote,
                  backup_remote_password_file=args.backup_remote_password_file, region_code=args.region_code)


def main(argv: list[str] | None = None) -> None:
    layout = parse(sys.argv[1:] if argv is None else argv)
    if layout.real and os.geteuid() != 0:
        sys.exit("bintang-install: run as root (or with --root DIR to render into a folder)")
    os.umask(0o022)
    try:
        install(layout)
    except InstallError as exc:
        sys.exit(f"bintang-install: {exc}")


if __name__ == "__main__":
    main()
