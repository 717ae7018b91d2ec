from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import AccountView
from swaps.api.views import SwapJobViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("swaps", SwapJobViewSet, basename="swap")

urlpatterns = [path("account", AccountView.as_view(), name="account"), *router.urls]
