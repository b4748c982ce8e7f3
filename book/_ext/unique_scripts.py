"""Each of a page's scripts once.

Under Jupyter Book 1.x, sphinx-thebe and sphinx-togglebutton add their inline
configuration scripts twice to every page; the second ``const THEBE_JS_URL``
is then a JavaScript error on every page (``tests/test_browser.py`` catches it).
"""


def _unique(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        # the same script comes once with filename None and once with "" (added before and after the builder)
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _unique, priority=900)  # after the extensions that add scripts per page
    return {"parallel_read_safe": True, "parallel_write_safe": True}
