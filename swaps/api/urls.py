from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import AccountExportView, AccountView
from swaps.api import compat
from swaps.api.faces import DetectView, SavedFaceViewSet
from swaps.api.views import SwapJobViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("swaps", SwapJobViewSet, basename="swap")
router.register("faces", SavedFaceViewSet, basename="face")

urlpatterns = [
    path("account", AccountView.as_view(), name="account"),
    path("account/export", AccountExportView.as_view(), name="account-export"),
    path("detect", DetectView.as_view(), name="detect"),
    path("face-swap/jobs", compat.FaceSwapJobCreateView.as_view(), name="face-swap-jobs"),
    path(
        "face-swap/jobs/<uuid:reference_id>", compat.FaceSwapJobView.as_view(), name="face-swap-job"
    ),
    *router.urls,
]
