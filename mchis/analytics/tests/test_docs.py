"""docs/analytics.md lists every indicator of fixtures/indicators.json (generated: manage.py analytics_doc)."""

from mchis.analytics.docs import BEGIN, DOC, END, indicator_section


def test_the_indicator_list_in_the_docs_is_generated_from_the_fixture():
    text = DOC.read_text(encoding="utf-8")
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == indicator_section(), "docs/analytics.md is out of date: run manage.py analytics_doc"
