"""The installer's PostgreSQL sign-in rules on a real PostgreSQL (`make test-production`): a private server of
its own (initdb into a temporary folder, a Unix socket there, no TCP), with Debian's pg_hba.conf and pg_ident.conf
as the installer leaves them. Root gets in as the owner role without a password (the database step runs as root);
root is not let in as the app role, nor as anyone over another map; nobody needs a password anywhere."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ROOT, wait_for_exit

pytestmark = pytest.mark.production

spec = importlib.util.spec_from_file_location("bintang_deploy_installer", ROOT / "deploy" / "installer.py")
installer = sys.modules.setdefault("bintang_deploy_installer", importlib.util.module_from_spec(spec))
spec.loader.exec_module(installer)

BIN = Path("/usr/lib/postgresql") / sorted(os.listdir("/usr/lib/postgresql"))[-1] / "bin"
DEBIAN_HBA = """local   all             postgres                                peer
local   all             all                                     peer
"""


def as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, text=True,
                          **kwargs)


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("this test signs in as root by peer authentication: run it as root (make test-production)")
    folder = Path(tempfile.mkdtemp(prefix="bintang-peer-"))
    os.chmod(folder, 0o755)
    data = folder / "data"
    try:
        shutil.chown(folder, "postgres", "postgres")
        as_postgres(str(BIN / "initdb"), "-D", str(data), "--auth=peer", "-U", "postgres")
        hba, ident = data / "pg_hba.conf", data / "pg_ident.conf"
        # As the installer leaves them on a Debian server.
        hba.write_text(installer.pg_hba_block(DEBIAN_HBA))
        ident.write_text(installer.pg_ident_lines(ident.read_text()))
        server = subprocess.Popen(["runuser", "-u", "postgres", "--", str(BIN / "postgres"), "-D", str(data),
                                   "-k", str(folder), "-c", "listen_addresses="], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if subprocess.run([str(BIN / "pg_isready"), "-q", "-h", str(folder)]).returncode == 0:
                    break
                wait_for_exit(server, 0.05)  # polling interval while the server starts
            psql_as_postgres(folder, f"CREATE ROLE {installer.OWNER_ROLE} LOGIN",
                             f"CREATE ROLE {installer.APP_ROLE} LOGIN",
                             f"CREATE DATABASE {installer.DATABASE} OWNER {installer.OWNER_ROLE}")
            yield folder
        finally:
            server.terminate()
            wait_for_exit(server, 20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def psql_as_postgres(folder: Path, *statements: str) -> None:
    for statement in statements:
        as_postgres(str(BIN / "psql"), "-X", "-q", "-h", str(folder), "-d", "postgres", "-c", statement)


def connect_as_root(folder: Path, role: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "psql"), "-X", "-At", "-w", "-h", str(folder), "-U", role, "-d",
                           installer.DATABASE, "-c", "SELECT current_user"], capture_output=True, text=True,
                          env={**os.environ, "PGPASSWORD": ""})


def test_root_signs_in_as_the_owner_role_without_a_password(socket_dir: Path):
    result = connect_as_root(socket_dir, installer.OWNER_ROLE)
    assert (result.returncode, result.stdout.strip()) == (0, installer.OWNER_ROLE), result.stderr


def test_root_is_not_let_in_as_the_app_role(socket_dir: Path):
    result = connect_as_root(socket_dir, installer.APP_ROLE)
    assert result.returncode != 0
    assert "Peer authentication failed" in result.stderr


def test_another_system_user_is_refused_as_either_role(socket_dir: Path):
    """postgres stands in for any system user but root and `bintang` (which exists only on a server)."""
    for role in (installer.APP_ROLE, installer.OWNER_ROLE):
        result = subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "psql"), "-X", "-w", "-h",
                                 str(socket_dir), "-U", role, "-d", installer.DATABASE, "-c", "SELECT 1"],
                                capture_output=True, text=True)
        assert result.returncode != 0, role
        assert "Peer authentication failed" in result.stderr, role
