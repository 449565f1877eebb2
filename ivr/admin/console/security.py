"""Security headers on every answer, and a Content-Security-Policy on the console's.

The console loads only its own files (htmx, Chart.js and console.js under /console/static) and
talks only to its own origin, so the policy allows 'self' and nothing inline: an injected
``<script>`` or ``onerror=`` does not run even if some text escaped escaping. Nobody may frame
the console (publish and rollback buttons could be clickjacked), so frame-ancestors 'none' plus
X-Frame-Options for older browsers. Signed-in pages are never stored by the browser or a proxy
(no-store); the static files may be cached. /docs (Swagger UI from a CDN) keeps no CSP.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_PREFIX = "/console"
STATIC_PREFIX = "/console/static/"
CSP = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "media-src 'self'", "connect-src 'self'", "font-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
))
EVERYWHERE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
              "Referrer-Policy": "same-origin"}


def headers_for(path: str) -> dict[str, str]:
    headers = dict(EVERYWHERE)
    if path == "/" or path.startswith(CONSOLE_PREFIX):
        headers["Content-Security-Policy"] = CSP
        if not path.startswith(STATIC_PREFIX):
            headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streamed answers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
