"""Encrypted backups of the database and the VAPID key, their off-host copies, restores and proof of restore."""
