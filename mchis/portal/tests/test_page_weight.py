"""The portal's first page stays under 300 KB transferred (issue 16): HTML + every linked CSS/JS, gzip as
served (WhiteNoise serves the compressed files), and small even uncompressed. Measured like the registry's form
page (mchis/registry/tests/test_page_weight.py)."""

from __future__ import annotations

from django.test import Client

from mchis.registry.tests.test_page_weight import page_weight


def test_first_page_under_300_kb(published):
    html = Client().get("/public/").content.decode()
    sizes = page_weight(html)
    raw = sum(v for k, v in sizes.items() if not k.endswith("gzip"))
    zipped = sum(v for k, v in sizes.items() if k.endswith("gzip"))
    print(f"\nportal first page: {raw} bytes raw, {zipped} bytes gzip; parts: {sizes}")
    assert "vendor/echarts.min.js" not in sizes  # trends are server-drawn SVG on the first page
    assert zipped < 300_000
    assert raw < 300_000
