"""One child field list (issue 11 item 5): the API schema, the bulk import and the demo generator take their
fields from `registry.validation.FIELDS`; a field added there reaches all three."""

from __future__ import annotations

from mchis.demo import services as demo
from mchis.registry import bulk_import
from mchis.registry.api import ChildCreateIn
from mchis.registry.validation import FIELDS, REQUIRED, ROW_FIELDS, column_of


def test_the_api_schema_has_every_child_field_in_order():
    schema = ChildCreateIn.model_json_schema()
    assert list(schema["properties"])[: len(FIELDS)] == list(FIELDS)
    assert schema["required"] == list(REQUIRED)


def test_the_bulk_writers_have_a_column_for_every_stored_child_field():
    columns = [column_of(name) for name in ROW_FIELDS]
    assert "village_id" in columns and "circumstances" not in columns
    for table in (bulk_import.CHILD_COLUMNS, demo.CHILD_COLUMNS):
        assert [c for c in table if c in columns] == columns
        assert len(set(table)) == len(table)
