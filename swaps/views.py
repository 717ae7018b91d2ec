"""The browser pages: upload a swap, follow it, download or delete it.

Thin on purpose: workflows live in swaps.services, and every lookup goes through
SwapJob.objects.owned_by(), so another person's job is simply not found (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import quotas, rate_limits
from accounts.page_limits import limit_posts_per_ip
from accounts.quotas import QuotaError
from faceswap_site.errors import ApiError
from swaps import services
from swaps.forms import NewSwapForm, max_image_mb
from swaps.imaging.errors import ImageInputError
from swaps.models import InputRole, JobStatus, SwapJob
from swaps.net.url_policy import UrlError
from swaps.plain_words import in_plain_words
from swaps.results import result_file_response
from swaps.signing import job_for_token, result_path

# Typed, user-facing errors: shown on the form, never a 500 (ApiError: an output format an
# animated target cannot have; QuotaError: not enough credits).
INPUT_ERRORS = (ImageInputError, UrlError, ApiError, QuotaError)
JOBS_PER_PAGE = 20


def _owned_job(request: HttpRequest, job_id: uuid.UUID) -> SwapJob:
    account = quotas.account_for(user=request.user)
    return get_object_or_404(SwapJob.objects.owned_by(account), pk=job_id)


def _live_result_url(job: SwapJob) -> str | None:
    """The signed result URL, or None once the result (or its link) has expired."""
    expires = job.result_expires_at
    if expires is None or expires <= timezone.now():
        return None
    return result_path(job)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"max_image_mb": max_image_mb()})


@login_required
@limit_posts_per_ip(group="swaps.upload", rate_setting="UPLOAD_RATE")
@require_http_methods(["GET", "POST"])
def new_swap(request: HttpRequest) -> HttpResponse:
    form = NewSwapForm(request.POST, request.FILES) if request.method == "POST" else NewSwapForm()
    if form.is_bound and form.is_valid():
        job = _create_job(request, form)
        if job is not None:
            return redirect("swaps:detail", job_id=job.pk)
    return render(request, "swaps/new.html", {"form": form, "max_image_mb": max_image_mb()})


def _create_job(request: HttpRequest, form: NewSwapForm) -> SwapJob | None:
    account = quotas.account_for(user=request.user)
    try:
        # Counted in the windows of the API's requests that create work, as the API counts
        # them (before any check): the dashboard's usage shows browser swaps, and the plan's
        # hourly and daily limits cover both ways in.
        rate_limits.consume_request(account=account, writes=True)
        return services.create_swap_job(
            account=account, api_key=None, spec=form.to_spec(), keep_previews=True
        )
    except INPUT_ERRORS as error:
        form.add_input_error(error)
        return None


@login_required
@require_safe
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = _owned_job(request, job_id)
    return render(request, "swaps/detail.html", _detail_context(job))


def _detail_context(job: SwapJob) -> dict[str, Any]:
    previews = {
        row.role: reverse("swaps:preview", args=[job.pk, row.role])
        for row in job.inputs.exclude(preview="")
    }
    result_url = _live_result_url(job)
    return {
        "job": job,
        "error_text": in_plain_words(job.error_code, job.error_details, job.error_message),
        "result_url": result_url,
        "download_url": f"{result_url}?download=1" if result_url else None,
        "result_expired": job.status == JobStatus.COMPLETED and result_url is None,
        "source_preview": previews.get(InputRole.SOURCE),
        "target_preview": previews.get(InputRole.TARGET),
        "processing_s": (
            f"{job.processing_ms / 1000:.1f}" if job.processing_ms is not None else None
        ),
    }


@login_required
@require_safe
@never_cache
def job_status(request: HttpRequest, job_id: uuid.UUID) -> JsonResponse:
    job = _owned_job(request, job_id)
    error = (
        {"code": job.error_code, "message": job.error_message}
        if job.status == JobStatus.FAILED
        else None
    )
    return JsonResponse(
        {
            "status": job.status,
            "is_final": job.is_final,
            "error": error,
            "result_url": _live_result_url(job),
        }
    )


@login_required
@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = SwapJob.objects.owned_by(quotas.account_for(user=request.user))
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "swaps/list.html", {"page": page})


@login_required
@require_POST
def delete_job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = _owned_job(request, job_id)
    services.delete_swap_job(job=job)
    messages.success(request, "The swap, its photos and its result were deleted.")
    return redirect("swaps:list")


@login_required
@require_safe
def input_preview(request: HttpRequest, job_id: uuid.UUID, role: str) -> FileResponse:
    job = _owned_job(request, job_id)
    row = (
        job.inputs.filter(role=role).exclude(preview="").first()
        if role in InputRole.values
        else None
    )
    if row is None:
        raise Http404("No preview for this photo.")
    try:
        handle = row.preview.open("rb")
    except OSError:  # erased between the query and the read
        raise Http404("No preview for this photo.") from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
def result_download(request: HttpRequest, token: str) -> FileResponse:
    """No login: the signed, expiring token is the permission (it can be shared)."""
    job = job_for_token(token)
    if job is None:
        raise Http404("This link is invalid or has expired.")
    try:
        return result_file_response(job, as_attachment=request.GET.get("download") == "1")
    except OSError:  # purged after the token check
        raise Http404("This result is no longer available.") from None
