"""Run every benchmark and print its table."""

import sys

from bench import appointments, backup, lighthouse, pages, push, reports, statistics

if __name__ == "__main__":
    reports.main()
    statistics.main()
    backup.main([])
    # Prints its problems and carries on, so that the benchmarks after it still run; the exit status tells.
    status = appointments.main()
    push.main()
    status = pages.main() or status
    status = lighthouse.main() or status
    sys.exit(status)
