"""Sphinx extension of the book: every page loads each script once.

Jupyter Book adds every ``.js`` file under the static paths as a page script, so the bundled
MathJax (which Sphinx's math extension already loads) would load a second time with its
font file, and the thebe and togglebutton configuration scripts are registered twice; a
script that runs twice fails in the browser ("Identifier ... has already been declared").
"""

from __future__ import annotations


def _key(script) -> tuple:
    """What a script loads or runs (an inline script's file name may be None or "")."""
    return (str(script.filename or ""),
            tuple(sorted((k, str(v)) for k, v in script.attributes.items())))


def one_of_each(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of identical scripts, and of the bundled MathJax only the copy
    Sphinx's math extension loads (``mathjax_path``, deferred)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    kept, seen = [], set()
    for script in scripts:
        if ("_static/mathjax/" in str(script.filename or "")
                and "defer" not in script.attributes):
            continue
        key = _key(script)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", one_of_each, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
