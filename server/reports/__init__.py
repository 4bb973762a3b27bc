"""Reports and the cases they become.

Importing the package registers the session hooks that count every committed change to a month's reports
(server/reports/freshness.py): whichever process changes a report (the web app, the worker, a command) has
imported this package first.
"""

from server.reports import freshness as freshness
