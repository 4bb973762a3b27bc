"""Run every benchmark and print its table."""

from bench import reports

if __name__ == "__main__":
    reports.main()
