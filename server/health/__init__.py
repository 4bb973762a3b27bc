"""Is the service well: the dispatchers' heartbeats, the readiness checks, the metrics and the supervisor's
"Kesehatan layanan" page."""
