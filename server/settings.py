"""One settings object, read from the environment only.

Every variable here is listed, with its default, in the README's settings table; a test keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from server import region as regions

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production")
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me-in-production-0000"  # noqa: S105 - production refuses it


class SettingsError(RuntimeError):
    """The environment asks for something the app must refuse to run with."""


def _bool(value: str) -> bool:
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"not a yes/no value: {value!r}")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    data_dir: Path = ROOT / "var"
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    cookie_secure: bool = False
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_limit_per_account: int = 5
    login_limit_per_address: int = 20
    login_delay_seconds: int = 30
    login_max_delay_minutes: int = 15
    login_forget_hours: int = 24
    two_factor_grace_days: int = 14
    trusted_proxies: tuple[str, ...] = ()
    quick_exit_url: str = "https://www.google.com/search?q=cuaca+hari+ini"
    # The WebAuthn relying party id passkeys are bound to; empty: the host name the request came to.
    webauthn_rp_id: str = ""
    log_level: str = "INFO"
    # The kabupaten/kota (Kemendagri code) the service works for: its name, province, time zone, kecamatan and
    # kelurahan/desa (server/region.py). Fixed once the database holds reports (server/accounts/regions.py).
    region_code: str = regions.DEFAULT_REGION_CODE
    # Web push (DESIGN.md §5). In development the VAPID key is generated once under DATA_DIR.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@bintangceria.example"
    # "inline": a dispatcher runs inside the app process; "off": run `bintang worker` beside the web processes.
    dispatcher: str = "inline"
    # Count this year's statistics in the background when a process starts (server/statistics/warm.py).
    statistics_warm: bool = True
    dispatch_interval_seconds: float = 5.0
    dispatch_lease_seconds: int = 60
    push_timeout_seconds: float = 10.0
    push_max_attempts: int = 5
    # host or host:port entries a push endpoint may name besides public https hosts (a local test push service).
    push_allowed_hosts: tuple[str, ...] = ()
    reminder_hours: tuple[int, ...] = (24, 1)
    # The channel ladder (server/notifications/ladder.py): WhatsApp Business Cloud API and an SMS gateway, each
    # off until configured; how long an unopened push waits before WhatsApp (and WhatsApp before SMS), and how many
    # hours before a session a counselor is asked to call when nothing is known to have arrived.
    whatsapp_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_template: str = ""
    whatsapp_template_language: str = "id"
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    ladder_push_wait_minutes: int = 30
    ladder_call_hours: int = 3
    # The waiting list (server/waitlist): how long an offered time is held for the person it is offered to, and
    # how long someone stays on the list.
    waitlist_hold_minutes: int = 30
    waitlist_keep_days: int = 42
    # No offers between 21.00 and 07.00 local time: a phone lighting up at night may be seen by others, and a hold
    # nobody is awake to take would pass the time down the list unseen.
    waitlist_quiet_hours: bool = True
    # Backups (server/backups): where archives go, who can read them (age recipients; the server holds no
    # identity), the off-host restic repository and its password, how many to keep.
    backup_dir_setting: str = ""
    backup_recipients: tuple[str, ...] = ()
    backup_remote: str = ""
    backup_remote_password: str = ""
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    backup_keep_monthly: int = 12
    # PostgreSQL: a role that may CREATE DATABASE, for `bintang backup verify`'s scratch database.
    backup_verify_database_url: str = ""
    # Readiness (/readyz) and the supervisor's "Kesehatan layanan": a dispatcher heartbeat older than this, or less
    # free disk than this in DATA_DIR, is red.
    heartbeat_max_age_seconds: int = 60
    min_free_disk_mb: int = 1024
    # /metrics answers loopback callers, and others that send "Authorization: Bearer <this>" when it is set.
    metrics_token: str = ""
    # With several uvicorn workers: where each process keeps its counters for /metrics to add up (prometheus-client
    # reads the same variable when it is imported). Empty: each process answers with its own.
    metrics_multiproc_dir: str = ""

    def cookie_name(self, name: str) -> str:
        """With COOKIE_SECURE our cookies carry the __Host- prefix: the browser then keeps them only if they came
        over HTTPS from this very host with Path=/, so a sibling subdomain or a plain-HTTP page cannot plant one."""
        return f"__Host-{name}" if self.cookie_secure else name

    @property
    def region(self) -> regions.Region:
        """The region REGION_CODE names (UnknownRegion when it names none)."""
        return regions.resolve(self.region_code)

    @property
    def whatsapp_on(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_phone_number_id and self.whatsapp_template)

    @property
    def sms_on(self) -> bool:
        return bool(self.sms_gateway_url)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def backup_dir(self) -> Path:
        return Path(self.backup_dir_setting) if self.backup_dir_setting else self.data_dir / "backups"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bintang.sqlite3'}"

    def check(self) -> None:
        """Refuse to run production on settings that would put children's data at risk."""
        if not self.is_production:
            return
        problems = []
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("SECRET_KEY is the development default or shorter than 32 characters")
        if not self.cookie_secure:
            problems.append("COOKIE_SECURE must be 1: session cookies would travel over plain HTTP")
        if not self.vapid_private_key:
            problems.append("VAPID_PRIVATE_KEY is not set: push messages could not be signed")
        if problems:
            raise SettingsError("BINTANG_ENV=production refused to start: " + "; ".join(problems))


def _check_ladder(settings: Settings) -> None:
    """The channel ladder's settings (server/notifications/ladder.py)."""
    if not 1 <= settings.ladder_push_wait_minutes <= 24 * 60:
        raise SettingsError("LADDER_PUSH_WAIT_MINUTES must be between 1 and 1440")
    if not 0 <= settings.ladder_call_hours <= 168:
        raise SettingsError("LADDER_CALL_HOURS must be between 0 and 168")
    if settings.whatsapp_token and not (settings.whatsapp_phone_number_id and settings.whatsapp_template
                                        and settings.whatsapp_app_secret):
        raise SettingsError("WHATSAPP_TOKEN needs WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TEMPLATE and WHATSAPP_APP_SECRET")


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    defaults = Settings()

    def get(name: str, default: object) -> str:
        return env.get(name, str(default))

    try:
        settings = Settings(
            env=get("BINTANG_ENV", defaults.env),
            secret_key=get("SECRET_KEY", defaults.secret_key),
            data_dir=Path(get("DATA_DIR", defaults.data_dir)),
            database_url=get("DATABASE_URL", defaults.database_url),
            host=get("HOST", defaults.host),
            port=int(get("PORT", defaults.port)),
            cookie_secure=_bool(get("COOKIE_SECURE", "0")),
            session_idle_minutes=int(get("SESSION_IDLE_MINUTES", defaults.session_idle_minutes)),
            session_max_hours=int(get("SESSION_MAX_HOURS", defaults.session_max_hours)),
            login_limit_per_account=int(get("LOGIN_LIMIT_PER_ACCOUNT", defaults.login_limit_per_account)),
            login_limit_per_address=int(get("LOGIN_LIMIT_PER_ADDRESS", defaults.login_limit_per_address)),
            login_delay_seconds=int(get("LOGIN_DELAY_SECONDS", defaults.login_delay_seconds)),
            login_max_delay_minutes=int(get("LOGIN_MAX_DELAY_MINUTES", defaults.login_max_delay_minutes)),
            login_forget_hours=int(get("LOGIN_FORGET_HOURS", defaults.login_forget_hours)),
            two_factor_grace_days=int(get("TWO_FACTOR_GRACE_DAYS", defaults.two_factor_grace_days)),
            trusted_proxies=tuple(p.strip() for p in get("TRUSTED_PROXIES", "").split(",") if p.strip()),
            quick_exit_url=get("QUICK_EXIT_URL", defaults.quick_exit_url),
            webauthn_rp_id=get("WEBAUTHN_RP_ID", "").strip().lower(),
            log_level=get("LOG_LEVEL", defaults.log_level).upper(),
            region_code=get("REGION_CODE", defaults.region_code).strip(),
            vapid_private_key=get("VAPID_PRIVATE_KEY", defaults.vapid_private_key).strip(),
            vapid_subject=get("VAPID_SUBJECT", defaults.vapid_subject),
            dispatcher=get("DISPATCHER", defaults.dispatcher),
            statistics_warm=_bool(get("STATISTICS_WARM", "1" if defaults.statistics_warm else "0")),
            dispatch_interval_seconds=float(get("DISPATCH_INTERVAL_SECONDS", defaults.dispatch_interval_seconds)),
            dispatch_lease_seconds=int(get("DISPATCH_LEASE_SECONDS", defaults.dispatch_lease_seconds)),
            push_timeout_seconds=float(get("PUSH_TIMEOUT_SECONDS", defaults.push_timeout_seconds)),
            push_max_attempts=int(get("PUSH_MAX_ATTEMPTS", defaults.push_max_attempts)),
            push_allowed_hosts=tuple(h.strip().lower() for h in get("PUSH_ALLOWED_HOSTS", "").split(",") if h.strip()),
            heartbeat_max_age_seconds=int(get("HEARTBEAT_MAX_AGE_SECONDS", defaults.heartbeat_max_age_seconds)),
            min_free_disk_mb=int(get("MIN_FREE_DISK_MB", defaults.min_free_disk_mb)),
            metrics_token=get("METRICS_TOKEN", defaults.metrics_token).strip(),
            metrics_multiproc_dir=get("PROMETHEUS_MULTIPROC_DIR", defaults.metrics_multiproc_dir).strip(),
            reminder_hours=tuple(
                sorted({int(h) for h in get("REMINDER_HOURS", "24,1").split(",") if h.strip()}, reverse=True)
            ),
            whatsapp_token=get("WHATSAPP_TOKEN", "").strip(),
            whatsapp_phone_number_id=get("WHATSAPP_PHONE_NUMBER_ID", "").strip(),
            whatsapp_app_secret=get("WHATSAPP_APP_SECRET", "").strip(),
            whatsapp_verify_token=get("WHATSAPP_VERIFY_TOKEN", "").strip(),
            whatsapp_template=get("WHATSAPP_TEMPLATE", "").strip(),
            whatsapp_template_language=get("WHATSAPP_TEMPLATE_LANGUAGE", defaults.whatsapp_template_language).strip(),
            whatsapp_api_url=get("WHATSAPP_API_URL", defaults.whatsapp_api_url).strip().rstrip("/"),
            whatsapp_api_version=get("WHATSAPP_API_VERSION", defaults.whatsapp_api_version).strip(),
            sms_gateway_url=get("SMS_GATEWAY_URL", "").strip(),
            sms_gateway_token=get("SMS_GATEWAY_TOKEN", "").strip(),
            ladder_push_wait_minutes=int(get("LADDER_PUSH_WAIT_MINUTES", defaults.ladder_push_wait_minutes)),
            ladder_call_hours=int(get("LADDER_CALL_HOURS", defaults.ladder_call_hours)),
            waitlist_hold_minutes=int(get("WAITLIST_HOLD_MINUTES", defaults.waitlist_hold_minutes)),
            waitlist_keep_days=int(get("WAITLIST_KEEP_DAYS", defaults.waitlist_keep_days)),
            waitlist_quiet_hours=_bool(get("WAITLIST_QUIET_HOURS", "1")),
            backup_dir_setting=get("BACKUP_DIR", "").strip(),
            backup_recipients=tuple(r.strip() for r in get("BACKUP_RECIPIENTS", "").split(",") if r.strip()),
            backup_remote=get("BACKUP_REMOTE", "").strip(),
            backup_remote_password=get("BACKUP_REMOTE_PASSWORD", ""),
            backup_keep_daily=int(get("BACKUP_KEEP_DAILY", defaults.backup_keep_daily)),
            backup_keep_weekly=int(get("BACKUP_KEEP_WEEKLY", defaults.backup_keep_weekly)),
            backup_keep_monthly=int(get("BACKUP_KEEP_MONTHLY", defaults.backup_keep_monthly)),
            backup_verify_database_url=get("BACKUP_VERIFY_DATABASE_URL", "").strip(),
        )
    except ValueError as exc:
        raise SettingsError(f"a setting is not a number: {exc}") from exc
    if settings.env not in ENVIRONMENTS:
        # "Production" or "prod" must not quietly skip the production checks.
        raise SettingsError(f"BINTANG_ENV must be 'development' or 'production', not {settings.env!r}")
    if settings.dispatcher not in ("inline", "off"):
        raise SettingsError(f"DISPATCHER must be 'inline' or 'off', not {settings.dispatcher!r}")
    if settings.heartbeat_max_age_seconds <= settings.dispatch_interval_seconds:
        # A dispatcher beats once a round: with a shorter limit a running one would look stopped.
        raise SettingsError("HEARTBEAT_MAX_AGE_SECONDS must be longer than DISPATCH_INTERVAL_SECONDS")
    if settings.min_free_disk_mb < 0:
        raise SettingsError("MIN_FREE_DISK_MB must be 0 or more")
    if not settings.reminder_hours or any(not 0 < h <= 168 for h in settings.reminder_hours):
        raise SettingsError("REMINDER_HOURS must list whole hours between 1 and 168, e.g. 24,1")
    _check_ladder(settings)
    if not 5 <= settings.waitlist_hold_minutes <= 24 * 60:
        raise SettingsError("WAITLIST_HOLD_MINUTES must be between 5 and 1440")
    if not 1 <= settings.waitlist_keep_days <= 365:
        raise SettingsError("WAITLIST_KEEP_DAYS must be between 1 and 365")
    try:
        settings = replace(settings, region_code=settings.region.code)
    except regions.UnknownRegion as exc:
        raise SettingsError(str(exc)) from exc
    settings.check()
    return settings
