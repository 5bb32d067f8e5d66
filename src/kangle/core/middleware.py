"""Security headers for every answer: one content security policy for the whole site.

Scripts come only from our own origin (vendored files under /static/); no inline script or handler runs,
so injected markup cannot execute. Inline *styles* stay allowed: templates and the vendored chart library
set element styles, and a style cannot run code. A view that needs a stricter policy (stored files) sets
its own header, which is kept.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
