"""Swap jobs and their input images."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account, ApiKey


def _input_path(instance: SwapInput, filename: str) -> str:
    # Server-made names only: the client's filename never reaches the disk.
    return f"inputs/{uuid.uuid4().hex}.{instance.format or 'bin'}"


def _preview_path(instance: SwapInput, filename: str) -> str:
    return f"previews/{uuid.uuid4().hex}.jpeg"


def _result_path(instance: SwapJob, filename: str) -> str:
    return f"results/{uuid.uuid4().hex}.{instance.output_format}"


def _result_preview_path(instance: SwapJob, filename: str) -> str:
    return f"previews/{uuid.uuid4().hex}.jpeg"


class JobStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


FINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED)


class SwapJobQuerySet(models.QuerySet["SwapJob"]):
    def visible(self) -> SwapJobQuerySet:
        return self.filter(deleted_at__isnull=True)

    def owned_by(self, account: Account) -> SwapJobQuerySet:
        return self.visible().filter(account=account)


class SwapJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="swap_jobs")
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="swap_jobs"
    )
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    options = models.JSONField(default=dict, blank=True)
    output_format = models.CharField(max_length=8, default="jpeg")
    return_base64 = models.BooleanField(default=False)
    client_reference = models.CharField(max_length=1024, blank=True)
    webhook_url = models.CharField(max_length=2048, blank=True)  # checked by swaps.webhooks
    cost = models.PositiveIntegerField(default=1)
    # The person said they have the right to use the photos and the consent of the people
    # in them (the browser form requires it; the API may send it).
    consent = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who runs it ("host:pid") and when that worker last said it still does
    # (swaps.recovery): a job whose worker died is taken back within seconds.
    worker = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    processing_ms = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(null=True, blank=True)
    faces = models.JSONField(null=True, blank=True)
    # Progress of an animated target, for the job page: frames swapped so far of all.
    frames_total = models.PositiveIntegerField(default=1)
    frames_done = models.PositiveIntegerField(default=0)

    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_details = models.JSONField(default=dict, blank=True)

    result = models.FileField(upload_to=_result_path, blank=True)
    # A screen-sized JPEG of a still result for the job page (the full size only downloads);
    # erased with the result.
    result_preview = models.FileField(upload_to=_result_preview_path, blank=True)
    inputs_deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SwapJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"swap {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def result_expires_at(self) -> datetime | None:
        if self.status != JobStatus.COMPLETED or not self.result or not self.completed_at:
            return None
        return self.completed_at + timedelta(seconds=settings.RESULT_URL_TTL_S)


class InputRole(models.TextChoices):
    SOURCE = "source"  # source photos, in request order (position 0..3)
    TARGET = "target"
    REFERENCE = "reference"  # picks the target face most like the face in it
    FACE = "face"  # a saved face's identity, copied so deleting the face cannot break the job


class SwapInput(models.Model):
    """One uploaded or fetched image of a job; erased once the job is final."""

    job = models.ForeignKey(SwapJob, on_delete=models.CASCADE, related_name="inputs")
    role = models.CharField(max_length=16, choices=InputRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    file = models.FileField(upload_to=_input_path)
    # Small copy for the browser's result page; erased with the result, not with the input.
    preview = models.FileField(upload_to=_preview_path, blank=True)

    class Meta:
        ordering = ["role", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "role", "position"], name="unique_input_slot")
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.position} of {self.job_id}"


class SavedFaceQuerySet(models.QuerySet["SavedFace"]):
    def owned_by(self, account: Account) -> SavedFaceQuerySet:
        return self.filter(account=account)


class SavedFace(models.Model):
    """What a later swap needs of one face (landmarks, aligned crop, descriptor), no photo.

    Deleting the row erases it: the identity lives in the row alone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saved_faces")
    name = models.CharField(max_length=100)
    identity = models.BinaryField(editable=False)  # engine.FaceIdentity.to_bytes()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SavedFaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"face {self.name!r} ({self.id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """The webhook of one ended job: its attempts and outcome (never the body or a secret)."""

    job = models.ForeignKey(SwapJob, on_delete=models.CASCADE, related_name="webhook_deliveries")
    webhook_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.CharField(max_length=2048)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # None once final
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status
    last_error = models.CharField(max_length=64, blank=True)  # a reason code, e.g. "timeout"
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"webhook {self.webhook_id} ({self.status})"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""
