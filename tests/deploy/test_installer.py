"""The installer's own rules, without installing anything (the install itself: test_production.py)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from string import Template

import pytest

from tests.servers import ROOT

# deploy/installer.py is a script run by Debian's python3, not part of the app's package.
spec = importlib.util.spec_from_file_location("bintang_deploy_installer", ROOT / "deploy" / "installer.py")
installer = sys.modules.setdefault("bintang_deploy_installer", importlib.util.module_from_spec(spec))
spec.loader.exec_module(installer)

DEBIAN_HBA = """# Database administrative login by Unix domain socket
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
"""


def layout(tmp_path: Path, **changes) -> installer.Layout:
    return installer.Layout(root=tmp_path, domain="bintang.example.go.id", email="ops@example.go.id",
                            database_url="postgresql://app@127.0.0.1/b", owner_database_url="postgresql://o@127.0.0.1/b",
                            **changes)


def test_our_pg_hba_lines_come_first_once_and_take_no_password():
    once = installer.pg_hba_block(DEBIAN_HBA)
    assert once.startswith(installer.PG_BLOCK_START)
    assert installer.pg_hba_block(once) == once
    ours = [line.split() for line in once[: once.index(installer.PG_BLOCK_END)].splitlines()
            if not line.startswith("#")]
    # Unix socket only, peer only: no password, no trust, nothing over the network.
    assert ours == [["local", "bintang", "bintang", "peer"], ["local", "bintang", "bintang_owner", "peer", "map=bintang"],
                    ["local", "all", "bintang_verify", "peer", "map=bintang"]]
    assert once.endswith(DEBIAN_HBA)


def test_root_alone_is_mapped_to_the_owner_role_once():
    ident = installer.pg_ident_lines("# MAPNAME SYSTEM-USERNAME PG-USERNAME\n")
    # The app's user only to the verify role (scratch databases), never to the owner.
    assert [line.split() for line in ident.splitlines()[-2:]] == [["bintang", "root", "bintang_owner"],
                                                                  ["bintang", "bintang", "bintang_verify"]]
    assert installer.pg_ident_lines(ident) == ident


def test_the_settings_file_keeps_its_secrets_and_what_the_operator_added(tmp_path: Path):
    first = installer.parse_env(installer.render_env(layout(tmp_path), {}, "vapid-key-1"))
    assert len(first["SECRET_KEY"]) >= 32
    assert first["VAPID_PRIVATE_KEY"] == "vapid-key-1"
    assert (first["BINTANG_ENV"], first["COOKIE_SECURE"]) == ("production", "1")
    assert first["VAPID_SUBJECT"] == "mailto:ops@example.go.id"

    edited = {**first, "LOG_LEVEL": "WARNING", "QUICK_EXIT_URL": "https://cuaca.example", "BINTANG_ENV": "development"}
    again = installer.render_env(layout(tmp_path), edited, None)
    second = installer.parse_env(again)
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert second["VAPID_PRIVATE_KEY"] == "vapid-key-1"
    assert (second["LOG_LEVEL"], second["QUICK_EXIT_URL"]) == ("WARNING", "https://cuaca.example")
    assert second["BINTANG_ENV"] == "production"  # the installer's own lines are set again
    assert installer.render_env(layout(tmp_path), second, None) == again


def test_unit_templates_use_only_the_six_agreed_names():
    allowed = {"user", "app_dir", "venv", "data_dir", "env_file", "backup_dir"}
    assert set(layout(Path("/")).variables) == allowed
    for template in sorted((ROOT / "deploy" / "systemd").iterdir()):
        names = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(template.read_text())
                 if m.group("named") or m.group("braced")}
        assert names <= allowed, template.name


def test_the_caddyfile_for_each_kind_of_certificate(tmp_path: Path):
    acme = installer.render_caddyfile(layout(tmp_path))
    assert "\temail ops@example.go.id\n" in acme
    assert "\ttls ops@example.go.id\n" in acme
    assert re.search(r"^bintang\.example\.go\.id \{$", acme, re.M)
    assert "\ttls internal\n" in installer.render_caddyfile(layout(tmp_path, tls="internal"))
    files = installer.render_caddyfile(layout(tmp_path, tls="files"))
    assert f"\ttls {tmp_path}/etc/caddy/bintang-tls/cert.pem {tmp_path}/etc/caddy/bintang-tls/key.pem\n" in files


@pytest.mark.parametrize(("arguments", "refusal"), [
    (["--domain", "bintang example", "--email", "ops@example.go.id"], "not a host name"),
    (["--domain", "bintang.example.go.id", "--email", "ops"], "not an e-mail address"),
    (["--domain", "bintang.example.go.id", "--email", "ops@x.id", "--root", "/tmp/x"], "--root needs"),
    (["--domain", "bintang.example.go.id", "--email", "ops@x.id", "--tls-cert", "/etc/hostname"], "go together"),
    (["--domain", "bintang.example.go.id", "--email", "ops@x.id", "--region-code", "Depok"], "not a Kemendagri"),
])
def test_the_command_refuses_what_it_cannot_install(arguments: list[str], refusal: str, capsys):
    with pytest.raises(SystemExit) as exit_:
        installer.parse(arguments)
    assert exit_.value.code == 2
    assert refusal in capsys.readouterr().err


def test_backup_recipients_are_merged_and_none_is_dropped(tmp_path: Path):
    dinas = "age1" + "q" * 58
    given = layout(tmp_path, backup_recipients=[dinas])
    existing = {"SECRET_KEY": "s", "VAPID_PRIVATE_KEY": "v", "BACKUP_RECIPIENTS": "age1old" + "p" * 55}
    values = installer.parse_env(installer.render_env(given, existing, None, "age1verify" + "z" * 52))
    assert values["BACKUP_RECIPIENTS"] == ",".join(["age1old" + "p" * 55, "age1verify" + "z" * 52, dinas])
    assert values["BACKUP_VERIFY_DATABASE_URL"] == "postgresql://o@127.0.0.1/b"
    assert values["BACKUP_DIR"] == str(tmp_path / "var" / "backups" / "bintang")
    assert "BACKUP_REMOTE" not in values
    again = installer.parse_env(installer.render_env(given, values, None, "age1verify" + "z" * 52))
    assert again["BACKUP_RECIPIENTS"] == values["BACKUP_RECIPIENTS"]


def test_pgbackrest_files_are_rendered_with_a_passphrase_made_once(tmp_path: Path, capsys):
    target = layout(tmp_path)
    changes = installer.Changes()
    installer.install_pgbackrest(target, changes)
    out = capsys.readouterr().out
    assert "keep it in the safe" in out
    assert "rendered its files only" in out
    conf = tmp_path / "etc" / "pgbackrest.conf"
    assert conf.stat().st_mode & 0o777 == 0o640
    text = conf.read_text()
    passphrase = re.search(r"^repo1-cipher-pass=(\S{40,})$", text, re.M).group(1)
    assert "[bintang]" in text
    assert f"repo1-path={tmp_path / 'var' / 'lib' / 'pgbackrest'}" in text
    archiving = (tmp_path / "etc/postgresql/15/main/conf.d/bintang-archiving.conf").read_text()
    assert "archive_mode = on" in archiving
    assert f"archive_command = 'pgbackrest --config={conf} --stanza=bintang archive-push %p'" in archiving
    # A second run keeps the passphrase (the repository cannot be read without it) and changes nothing.
    again = installer.Changes()
    installer.install_pgbackrest(target, again)
    assert "keep it in the safe" not in capsys.readouterr().out
    assert not again
    assert passphrase in conf.read_text()



def test_the_region_code_is_written_once_given_and_kept_on_a_re_run_without_it(tmp_path: Path):
    given = installer.parse(["--domain", "bintang.example.go.id", "--email", "ops@x.id", "--region-code", "32.76"])
    assert given.region_code == "32.76"
    first = installer.parse_env(installer.render_env(layout(tmp_path, region_code="32.76"), {}, "vapid-key-1"))
    assert first["REGION_CODE"] == "32.76"
    again = installer.parse_env(installer.render_env(layout(tmp_path), first, None))
    assert again["REGION_CODE"] == "32.76"
    default = installer.parse_env(installer.render_env(layout(tmp_path), {}, "vapid-key-1"))
    assert "REGION_CODE" not in default  # the app's default, Kota Banjarbaru
