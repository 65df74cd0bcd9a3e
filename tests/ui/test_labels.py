"""ui.labels.md (issue 18): data put into Markdown is shown literally, never rendered as an image, link or directive."""

from __future__ import annotations

import re

import pytest

from ui import labels


@pytest.mark.parametrize(
    "value",
    [
        "![x](http://127.0.0.1:9/pixel.png)",
        "[click](javascript:alert(1))",
        "**bold** _it_ `code` ~~s~~",
        ":red[alarm] :material/warning:",
        "$x^2$",
        "<img src=x onerror=alert(1)>",
        "# heading\n- item",
        "a\\b",
    ],
)
def test_every_markdown_character_is_escaped(value):
    text = labels.md(value)
    unescaped = re.sub(r"\\.", "", text)  # drop every escaped character: what is left must hold no syntax
    assert not re.search(r"[\\`*_{}\[\]()<>#+\-.!|~:$=]", unescaped), text
    assert re.sub(r"\\(.)", r"\1", text) == " ".join(value.split())  # unescaped, it reads as the value


def test_plain_names_are_unchanged():
    assert labels.md("Lakeview USD") == "Lakeview USD"
