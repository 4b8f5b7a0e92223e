"""Small HTTP helpers shared by pages."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value whose file name cannot break the header (no quotes, no CR/LF, ASCII only),
    whatever part of it came from the URL."""
    safe = _UNSAFE.sub("_", filename).strip("._") or "tep"
    return f'{"inline" if inline else "attachment"}; filename="{safe[:120]}"'
