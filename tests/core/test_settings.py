import re
from pathlib import Path

import pytest

from server.settings import DEFAULT_SECRET_KEY, Settings, SettingsError, from_env

README = Path(__file__).resolve().parents[2] / "README.md"
STRONG_KEY = "k" * 48


def test_it_runs_in_development_on_defaults():
    settings = from_env({})
    assert settings.env == "development"
    assert settings.db_url.startswith("sqlite:///")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_it_refuses_production_on_the_default_secret_key():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        from_env({"BINTANG_ENV": "production", "COOKIE_SECURE": "1"})


def test_it_refuses_production_with_insecure_cookies():
    with pytest.raises(SettingsError, match="COOKIE_SECURE"):
        from_env({"BINTANG_ENV": "production", "SECRET_KEY": STRONG_KEY})


def test_it_starts_production_on_a_real_secret_and_secure_cookies():
    settings = from_env({"BINTANG_ENV": "production", "SECRET_KEY": STRONG_KEY, "COOKIE_SECURE": "1",
                         "VAPID_PRIVATE_KEY": "a-key"})
    assert settings.is_production
    assert settings.secret_key != DEFAULT_SECRET_KEY


def test_it_says_which_setting_is_not_a_number():
    with pytest.raises(SettingsError, match="not a number"):
        from_env({"PORT": "delapan ribu"})


def test_every_setting_is_in_the_readme_table_with_its_default():
    source = Path(__file__).resolve().parents[2].joinpath("server", "settings.py").read_text()
    variables = set(re.findall(r'get\("([A-Z_]+)"', source))
    table = README.read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert variables, "no settings found"
    assert variables == documented - {"TEST_DATABASE_URL"}


def test_trusted_proxies_are_a_list():
    assert from_env({"TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"}).trusted_proxies == ("10.0.0.1", "10.0.0.2")
    assert Settings().trusted_proxies == ()
