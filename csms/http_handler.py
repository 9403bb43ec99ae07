"""The HTTP side of the ASGI application: Django's handler, one thread hop per request.

Every view of the CSMS is synchronous, and so are two of its middleware
(WhiteNoise, auditlog). Django's ASGI handler builds an asynchronous chain and
adapts around each synchronous part: event loop -> thread for the outer
middleware, back to the loop at auditlog, to a thread again for the view, and
the same way back. Each crossing waits in the loop's queue, which is long when
thousands of stations keep the loop busy (commands under load: 19 of 46
requests in flight were waiting there to cross). This handler reads the request
on the loop as Django does, then runs the whole middleware chain and the view
in one thread, as under WSGI.
"""

from __future__ import annotations

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        # Not super().__init__(): that loads the chain in async mode.
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        # BaseHandler.get_response is the synchronous twin of the method this
        # overrides (urlconf, the chain, closers, logging of 4xx/5xx).
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_http_application() -> SyncChainASGIHandler:
    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
