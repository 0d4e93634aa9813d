"""Pages rendered from the Jinja2 templates in ``veclift/resources/templates``, HTML-escaped by default."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    """The one template environment: package templates, autoescape on, undefined names an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("veclift", "resources/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: object) -> str:
    """The template ``name`` (e.g. ``"word_map.html"``) rendered with ``context``; values are escaped
    unless wrapped in `markupsafe.Markup`."""
    return environment().get_template(name).render(**context)
