"""Highlighted product names: plain (text, matched) segments from the backend, <mark> in
the page, and hostile names stay text."""

from __future__ import annotations

from flask import render_template_string

from config import Config
from indexer.analysis import highlight_segments, plan_words
from portal import create_app
from portal.presenters import product_view

HOSTILE = 'Bougie <script>alert("x")</script> & <b>vanille</b>'


def _render(tmp_path, hit) -> str:
    app = create_app(Config(data_dir=tmp_path))
    with app.test_request_context():
        return render_template_string(
            '{% from "_macros.html" import highlighted_name %}{{ highlighted_name(p) }}', p=product_view(hit)
        )


def test_segments_spell_the_name_and_mark_matched_words():
    segments = highlight_segments("Bougies parfumées à la figue", plan_words("bougie parfumee"))
    assert segments == [("Bougies", True), (" ", False), ("parfumées", True), (" à la figue", False)]
    assert highlight_segments("Vélo enfant", plan_words("bicyclette")) == [("Vélo", True), (" enfant", False)]
    assert highlight_segments("Théière", plan_words("")) == [("Théière", False)]


def test_hostile_names_are_escaped_piece_by_piece(tmp_path):
    hit = {"id": "x", "name": HOSTILE, "name_highlight": highlight_segments(HOSTILE, plan_words("bougie vanille"))}
    html = _render(tmp_path, hit)
    assert html == (
        "<mark>Bougie</mark> &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;"
        "<mark>vanille</mark>&lt;/b&gt;"
    )


def test_segments_that_do_not_spell_the_name_are_ignored(tmp_path):
    forged = {"id": "x", "name": "Bougie", "name_highlight": [("<img src=x onerror=alert(1)>", True)]}
    assert _render(tmp_path, forged) == "Bougie"
    assert _render(tmp_path, {"id": "x", "name": "Bougie & co"}) == "Bougie &amp; co"


def test_the_json_shape_is_unchanged():
    view = product_view({"id": "x", "name": "Bougie", "name_highlight": [("Bougie", True)]})
    assert "name_highlight" not in view and "name_segments" not in view
    assert view.name_segments == [("Bougie", True)]
