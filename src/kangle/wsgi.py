import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
application = get_wsgi_application()

# Import every URLconf, view and API schema while the worker boots (about a second), before it accepts
# connections: otherwise the first request each fresh worker takes waits for it, and on a busy machine
# that wait reaches a load balancer's health-check timeout.
get_resolver().resolve("/healthz")
