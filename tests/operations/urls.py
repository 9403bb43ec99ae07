"""The project's URLs plus a few test-only API views (for @pytest.mark.urls)."""

import logging

from django.db import OperationalError
from django.urls import path
from psycopg_pool import PoolTimeout
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from csms.errors import Conflict
from csms.urls import urlpatterns as project_urlpatterns

logger = logging.getLogger("tests.operations")


class EchoView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"pad_length": len(request.data.get("pad", ""))})


class PrivateView(APIView):
    """Default permissions: refuses anonymous callers."""

    def get(self, request):
        return Response({"ok": True})


class ConflictView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise Conflict("Station CP1 is offline.", code="station_offline")


class BrokenView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("bug")


class BusyView(APIView):
    """No pooled database connection came free: raised as Django wraps it."""

    permission_classes = [AllowAny]

    def get(self, request):
        try:
            raise PoolTimeout("couldn't get a connection after 10.00 sec")
        except PoolTimeout as exc:
            raise OperationalError(str(exc)) from exc


class LoggingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        logger.warning("hello from the view")
        return Response({"ok": True})


urlpatterns = [
    path("test-api/echo/", EchoView.as_view()),
    path("test-api/private/", PrivateView.as_view()),
    path("test-api/conflict/", ConflictView.as_view()),
    path("test-api/broken/", BrokenView.as_view()),
    path("test-api/log/", LoggingView.as_view()),
    path("test-api/busy/", BusyView.as_view()),
    *project_urlpatterns,
]
