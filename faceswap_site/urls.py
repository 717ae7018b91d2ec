from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from faceswap_site import health, metrics
from swaps import page_json
from swaps import views as swap_views

swap_pages = (
    [
        path("", swap_views.job_list, name="list"),
        path("new/", swap_views.new_swap, name="new"),
        path("new/faces/", page_json.detect_faces, name="detect"),
        path("delete/", swap_views.delete_jobs, name="delete-many"),
        path("<uuid:job_id>/", swap_views.job_detail, name="detail"),
        path("<uuid:job_id>/status/", page_json.job_status, name="status"),
        path("<uuid:job_id>/delete/", swap_views.delete_job, name="delete"),
        path("<uuid:job_id>/preview/<str:role>/", swap_views.input_preview, name="preview"),
        path("result/<str:token>", swap_views.result_download, name="result-download"),
    ],
    "swaps",
)

dashboard_pages = (
    [
        path("", account_views.dashboard, name="home"),
        path("keys/", account_views.create_key, name="create-key"),
        path("keys/<int:key_id>/revoke/", account_views.revoke_key, name="revoke-key"),
        path("webhook-secret/", account_views.reveal_secret, name="reveal-secret"),
        path("webhook-secret/rotate/", account_views.rotate_secret, name="rotate-secret"),
        path("export/", account_views.export_data, name="export"),
        path("delete-account/", account_views.close_account, name="close-account"),
    ],
    "dashboard",
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on their own, whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", swap_views.home, name="home"),
    path("signup/", account_views.signup, name="signup"),
    path("login/", account_views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("swaps/", include(swap_pages)),
    path("dashboard/", include(dashboard_pages)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("swaps.api.urls")),
    path("api/", include("swaps.api.compat_urls")),
    path("v1/", include("swaps.api.service_urls")),  # Segmind's and useapi's paths
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: its start-up script is a file, not inline (the CSP allows no inline script).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]
