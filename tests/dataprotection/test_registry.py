"""The records of processing describe every column of every table, each once, with a retention rule that exists;
docs/dpia.md names every record."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import SQLModel

from server.dataprotection import registry, rules
from server.migrations import import_all_models

DPIA = Path(__file__).parents[2] / "docs" / "dpia.md"


def _columns() -> dict[str, set[str]]:
    import_all_models()
    return {table.name: {column.name for column in table.columns} for table in SQLModel.metadata.tables.values()}


def test_every_column_of_every_table_is_described():
    described = registry.described()
    missing = sorted(f"{table}.{column}" for table, columns in _columns().items()
                     for column in columns - described.get(table, set()))
    assert missing == []


def test_the_registry_describes_no_column_that_does_not_exist():
    columns = _columns()
    extra = sorted(f"{table}.{column}" for table, described in registry.described().items()
                   for column in described - columns.get(table, set()))
    assert extra == []


def test_no_column_is_described_twice():
    seen: dict[str, str] = {}
    twice = []
    for record in registry.RECORDS:
        for column in record.fields:
            name = f"{record.table}.{column}"
            if name in seen:
                twice.append(name)
            seen[name] = record.key
    assert twice == []


def test_each_record_has_a_unique_key_and_a_known_retention_rule():
    keys = [record.key for record in registry.RECORDS]
    assert len(keys) == len(set(keys))
    assert {record.retention for record in registry.RECORDS} <= set(rules.RULES)


def test_childrens_reports_are_specific_data():
    by_key = {record.key: record for record in registry.RECORDS}
    assert by_key["report.story"].specific
    assert by_key["case_event"].specific
    assert by_key["child"].specific
    assert not by_key["district"].personal


def test_the_impact_assessment_lists_every_record():
    text = DPIA.read_text()
    missing = [record.key for record in registry.RECORDS if f"`{record.key}`" not in text]
    assert missing == []
