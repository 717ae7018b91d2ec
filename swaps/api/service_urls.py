"""Compatible routes at the paths of other services' APIs (outside /api/): their clients
change only the base URL."""

from django.urls import path

from swaps.api import compat_segmind, compat_useapi

urlpatterns = [
    path(
        "models/faceswap-v2",
        compat_segmind.SegmindFaceSwapView.as_view(),
        name="segmind-faceswap-v2",
    ),
    path("faceswap/swap", compat_useapi.UseapiFaceSwapView.as_view(), name="useapi-faceswap-swap"),
]
