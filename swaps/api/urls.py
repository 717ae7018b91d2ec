from rest_framework.routers import SimpleRouter

from swaps.api.views import SwapJobViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("swaps", SwapJobViewSet, basename="swap")

urlpatterns = router.urls
