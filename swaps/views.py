"""The browser pages: upload a swap, follow it, download or delete it.

Thin on purpose: workflows live in swaps.services, and every lookup goes through
SwapJob.objects.owned_by(), so another person's job is simply not found (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import quotas, rate_limits
from accounts.page_limits import limit_posts_per_ip
from accounts.quotas import QuotaError
from faceswap_site.errors import ApiError
from swaps import services
from swaps.forms import ACCEPTED_TYPES, NewSwapForm, max_image_mb
from swaps.imaging.errors import ImageInputError
from swaps.models import InputRole, JobStatus, SwapInput, SwapJob
from swaps.net.url_policy import UrlError
from swaps.page_json import STAGES, live_result_url
from swaps.plain_words import in_plain_words
from swaps.results import result_file_response
from swaps.signing import job_for_token

# Typed, user-facing errors: shown on the form, never a 500 (ApiError: an output format an
# animated target cannot have; QuotaError: not enough credits).
INPUT_ERRORS = (ImageInputError, UrlError, ApiError, QuotaError)
JOBS_PER_PAGE = 20


def _owned_job(request: HttpRequest, job_id: uuid.UUID) -> SwapJob:
    account = quotas.account_for(user=request.user)
    return get_object_or_404(SwapJob.objects.owned_by(account), pk=job_id)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"max_image_mb": max_image_mb()})


@login_required
@limit_posts_per_ip(group="swaps.upload", rate_setting="UPLOAD_RATE")
@require_http_methods(["GET", "POST"])
def new_swap(request: HttpRequest) -> HttpResponse:
    account = quotas.account_for(user=request.user)
    bound = (request.POST, request.FILES) if request.method == "POST" else ()
    form = NewSwapForm(*bound, account=account)
    if form.is_bound and form.is_valid():
        job = _create_job(request, form)
        if job is not None:
            return redirect("swaps:detail", job_id=job.pk)
    return render(request, "swaps/new.html", _new_context(form))


def _new_context(form: NewSwapForm) -> dict[str, Any]:
    # The page's script checks files against the same limits as the server.
    return {
        "form": form,
        "max_image_mb": max_image_mb(),
        "max_image_bytes": settings.MAX_IMAGE_BYTES,
        "max_image_pixels": settings.MAX_IMAGE_PIXELS,
        "accepted_types": ACCEPTED_TYPES,
    }


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
    result_url = live_result_url(job)
    return {
        "job": job,
        "stage": STAGES.get(job.status, job.status),
        "result_preview": (
            reverse("swaps:preview", args=[job.pk, "result"])
            if result_url and job.result_preview
            else result_url
        ),
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
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = SwapJob.objects.owned_by(quotas.account_for(user=request.user)).prefetch_related(
        Prefetch("inputs", SwapInput.objects.filter(role=InputRole.TARGET).exclude(preview=""))
    )
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "swaps/list.html", {"page": page})


@login_required
@require_POST
def delete_jobs(request: HttpRequest) -> HttpResponse:
    """Bulk delete from My swaps: the ticked jobs of this account (others' ids: ignored)."""
    ids = [value for value in request.POST.getlist("job") if _is_uuid(value)]
    jobs = SwapJob.objects.owned_by(quotas.account_for(user=request.user)).filter(pk__in=ids)
    count = 0
    for job in jobs:
        services.delete_swap_job(job=job)
        count += 1
    if count:
        noun = "swap was" if count == 1 else "swaps were"
        messages.success(request, f"{count} {noun} deleted, with their photos and results.")
    else:
        messages.info(request, "Tick the swaps to delete first.")
    return redirect("swaps:list")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


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
    if role == "result":  # the screen-sized result, while the result itself lives
        preview = job.result_preview if live_result_url(job) else None
    else:
        row = (
            job.inputs.filter(role=role).exclude(preview="").first()
            if role in InputRole.values
            else None
        )
        preview = row.preview if row is not None else None
    if not preview:
        raise Http404("No preview for this photo.")
    try:
        handle = preview.open("rb")
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
