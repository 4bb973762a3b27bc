// placeholder replaced by the PWA work
