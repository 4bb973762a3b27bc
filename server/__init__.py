"""Bintang Ceria: the phone-first web app of a city's child and teen counseling service."""

import os

# prometheus-client reads PROMETHEUS_MULTIPROC_DIR when it is first imported and every process dies there if the
# folder is missing (a cleaned /tmp, a new DATA_DIR). Every module of ours is imported after this package, so
# the folder is made here, private to the app's user, before any of them imports prometheus-client.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
if _metrics_dir:
    try:
        os.makedirs(_metrics_dir, mode=0o700, exist_ok=True)
    except OSError as _exc:
        raise SystemExit(f"bintang: PROMETHEUS_MULTIPROC_DIR={_metrics_dir} cannot be made: {_exc.strerror}") from None
