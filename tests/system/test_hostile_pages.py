"""Pages showing hostile names (issue 18): a district named like a Markdown image is shown as text, never fetched.

Under AppTest every Markdown-rendered element's text is checked: the name appears only escaped, so the browser
would draw the characters, not an image.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from coop import names
from coop.store import db

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PIXEL = "![x](http://127.0.0.1:9/pixel.png)"


@pytest.fixture
def hostile_app(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    con = duckdb.connect(str(sample_copy))
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES (?, ?, 'MN', '55101')", [PIXEL, PIXEL]
    )
    con.close()
    monkeypatch.setenv(db.ENV_VAR, str(sample_copy))
    return sample_copy


def rendered_texts(at: AppTest) -> list[str]:
    """The Markdown source of every element Streamlit renders as Markdown."""
    groups = (at.markdown, at.caption, at.info, at.warning, at.error, at.success, at.title, at.subheader)
    return [str(e.value) for group in groups for e in group]


@pytest.mark.parametrize("page", ["pages/packet.py", "pages/premiums.py", "pages/local_spend.py"])
def test_a_markdown_image_district_name_is_never_rendered_as_an_image(hostile_app, page):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = rendered_texts(at)
    assert texts
    for text in texts:
        assert not re.search(r"(?<!\\)!(?<!\\)\[", text) and "](http" not in text, text
    if page == "pages/packet.py":  # the preview is the packet's HTML, whose notes name the district with no lines
        html = next(e.proto.srcdoc for e in at.main if e.type == "iframe")
        assert PIXEL in html and "<img src=\"http://127.0.0.1:9" not in html
