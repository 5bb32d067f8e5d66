"""Middleware naming the worker process that answered (``X-Bench-Worker``), counted by ``harness.wrk``.

Imports nothing of the product, so the django-helpdesk site of ``helpdesk_side_by_side.py`` uses it too."""

import os


def worker_header(get_response):
    pid = str(os.getpid())

    def middleware(request):
        response = get_response(request)
        response["X-Bench-Worker"] = pid
        return response

    return middleware
