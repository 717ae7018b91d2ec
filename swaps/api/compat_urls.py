"""Compatible routes under /api/ (outside /api/v1/), for clients of other services."""

from django.urls import path

from swaps.api import compat, compat_modelslab

urlpatterns = [
    path("faceswap/basicswap", compat.BasicSwapView.as_view(), name="compat-basicswap"),
    path("faceswap/faceswap2", compat.FaceSwap2View.as_view(), name="compat-faceswap2"),
    path("faceswap/swap1from2", compat.Swap1From2View.as_view(), name="compat-swap1from2"),
    path(
        "faceswap/swapfacesameimage",
        compat.SwapSameImageView.as_view(),
        name="compat-swapfacesameimage",
    ),
    path("task-status/<uuid:task_id>", compat.TaskStatusView.as_view(), name="task-status"),
    path(
        "v6/deepfake/single_face_swap",
        compat_modelslab.SingleFaceSwapView.as_view(),
        name="modelslab-single-face-swap",
    ),
    path(
        "v6/deepfake/fetch/<str:job_id>",
        compat_modelslab.FetchView.as_view(),
        name="modelslab-fetch",
    ),
]
