from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.transactions.views import (
    IdTagViewSet,
    TransactionMeterValueListView,
    TransactionViewSet,
)

router = SimpleRouter()
router.register("id-tags", IdTagViewSet, basename="id-tag")
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = [
    *router.urls,
    path(
        "transactions/<int:pk>/meter-values/",
        TransactionMeterValueListView.as_view(),
        name="transaction-meter-values",
    ),
]
