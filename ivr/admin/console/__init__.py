"""The admin web console: server-rendered pages (Jinja2) with a little JavaScript (htmx, Chart.js
vendored under static/vendor), on the same tokens and roles as the API."""

from __future__ import annotations

from ivr.admin.console.routes import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
