"""The Caddyfile for the other two kinds of certificate (the production test runs `--tls internal`): Let's Encrypt
for a public domain, and a certificate and key the Dinas already has. Both pass `caddy validate`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.production

spec = importlib.util.spec_from_file_location("bintang_deploy_installer", ROOT / "deploy" / "installer.py")
installer = sys.modules.setdefault("bintang_deploy_installer", importlib.util.module_from_spec(spec))
spec.loader.exec_module(installer)


def validate(text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(text)
    return subprocess.run(["caddy", "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
                          capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})


def layout(tmp_path: Path, **changes) -> installer.Layout:
    return installer.Layout(root=tmp_path / "root", domain="bintang.example.go.id", email="ops@example.go.id",
                            database_url="postgresql://a@127.0.0.1/b", owner_database_url="postgresql://o@127.0.0.1/b",
                            **changes)


def test_lets_encrypt_for_a_public_domain_validates(tmp_path: Path):
    result = validate(installer.render_caddyfile(layout(tmp_path)), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_dinas_own_certificate_is_copied_and_validates(tmp_path: Path):
    cert, key = tmp_path / "dinas.crt", tmp_path / "dinas.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=bintang.example.go.id", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    files = layout(tmp_path, tls="files", tls_cert=cert, tls_key=key)
    changes = installer.Changes()
    installer.install_caddy(files, changes)
    assert (files.tls_dir / "cert.pem").read_bytes() == cert.read_bytes()
    assert (files.tls_dir / "key.pem").stat().st_mode & 0o777 == 0o640
    result = validate(files.caddyfile.read_text(), tmp_path)
    assert result.returncode == 0, result.stderr
    # Again with the same files: nothing is written.
    again = installer.Changes()
    installer.install_caddy(files, again)
    assert not again
