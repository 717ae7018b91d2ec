from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import quotas
from swaps.models import SavedFace, SwapInput, SwapJob, WebhookDelivery


class SwapInputInline(admin.TabularInline):
    model = SwapInput
    extra = 0
    can_delete = False
    fields = ["role", "position", "format", "width", "height", "size_bytes", "file"]
    readonly_fields = fields


@admin.register(SwapJob)
class SwapJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "status",
        "error_code",
        "cost",
        "processing_ms",
        "created_at",
        "completed_at",
    ]
    list_filter = [
        "status",
        "error_code",
        "account",
        "output_format",
        "created_at",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["id", "account__user__email", "client_reference"]
    date_hierarchy = "created_at"
    raw_id_fields = ["account", "api_key"]
    readonly_fields = [f.name for f in SwapJob._meta.fields]
    inlines = [SwapInputInline]
    actions = ["refund_jobs"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False  # jobs come from the API or the upload form, which check inputs

    @admin.action(description="Refund selected jobs (once per job)")
    def refund_jobs(self, request: HttpRequest, queryset: QuerySet[SwapJob]) -> None:
        refunded = sum(
            quotas.refund_job(job=job, reason="refunded by an operator", by=request.user)
            for job in queryset.select_related("account")
        )
        skipped = queryset.count() - refunded
        self.message_user(
            request,
            f"Refunded {refunded} job(s); {skipped} already refunded or never charged.",
            messages.SUCCESS,
        )


@admin.register(SavedFace)
class SavedFaceAdmin(admin.ModelAdmin):
    """Names and owners only: the identity bytes are never shown."""

    list_display = ["id", "account", "name", "created_at"]
    search_fields = ["id", "name", "account__user__email"]
    date_hierarchy = "created_at"
    fields = ["id", "account", "name", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False  # faces come from the API, which checks there is exactly one


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are made and retried by the worker."""

    list_display = [
        "webhook_id",
        "job",
        "host",
        "status",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "last_error", "created_at"]
    list_select_related = ["job"]
    search_fields = ["webhook_id", "job__id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
