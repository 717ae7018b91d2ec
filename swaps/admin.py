from django.contrib import admin

from swaps.models import SwapInput, SwapJob


class SwapInputInline(admin.TabularInline):
    model = SwapInput
    extra = 0
    can_delete = False
    fields = ["role", "position", "format", "width", "height", "size_bytes", "file"]
    readonly_fields = fields


@admin.register(SwapJob)
class SwapJobAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "status", "error_code", "cost", "processing_ms",
                    "created_at", "completed_at"]
    list_filter = ["status", "error_code", "output_format", "created_at",
                   ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "account__user__email", "client_reference"]
    date_hierarchy = "created_at"
    raw_id_fields = ["account", "api_key"]
    readonly_fields = [f.name for f in SwapJob._meta.fields]
    inlines = [SwapInputInline]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False  # jobs come from the API or the upload form, which check inputs
