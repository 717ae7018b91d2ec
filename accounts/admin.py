from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import quotas
from accounts.models import Account, ApiKey, CreditEntry, Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "hourly_limit",
        "daily_limit",
        "monthly_credits",
        "watermark_by_default",
    ]
    list_editable = ["hourly_limit", "daily_limit", "monthly_credits", "watermark_by_default"]
    prepopulated_fields = {"slug": ["name"]}


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    show_change_link = True


class LedgerInline(admin.TabularInline):
    model = CreditEntry
    fk_name = "account"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["created_at", "kind", "amount", "reason", "job", "period", "created_by"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]


class AccountForm(forms.ModelForm):
    credit_change = forms.IntegerField(
        required=False, help_text="Grant (positive) or take (negative) credits."
    )
    credit_reason = forms.CharField(
        required=False, max_length=200, help_text="Required with a change; it lands in the ledger."
    )

    class Meta:
        model = Account
        fields = ["plan", "webhook_secret"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        change = data.get("credit_change")
        if change and not (data.get("credit_reason") or "").strip():
            self.add_error("credit_reason", "Say why: the reason is kept in the ledger.")
        if change and self.instance.pk and self.instance.credits + change < 0:
            self.add_error("credit_change", f"The balance is only {self.instance.credits}.")
        return data


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ["user", "plan", "credits", "created_at", "closed_at"]
    list_filter = ["plan", ("closed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "plan"]
    search_fields = ["user__email", "user__username"]
    readonly_fields = ["user", "credits", "created_at", "closed_at"]
    fields = [
        "user",
        "plan",
        "credits",
        "credit_change",
        "credit_reason",
        "webhook_secret",
        "created_at",
        "closed_at",
    ]
    inlines = [ApiKeyInline, LedgerInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts open with their user (sign-up, createapikey, admin users)

    def save_model(
        self, request: HttpRequest, obj: Account, form: AccountForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        amount = form.cleaned_data.get("credit_change")
        if amount:
            quotas.adjust_credits(
                account=obj,
                amount=amount,
                by=request.user,
                reason=form.cleaned_data["credit_reason"],
            )
            obj.refresh_from_db(fields=["credits"])


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "amount", "reason", "job"]
    list_filter = ["kind", "created_at"]
    search_fields = ["account__user__email", "reason"]
    readonly_fields = [f.name for f in CreditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come with balance changes (account page, refunds, grants)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "account", "created_at", "last_used_at", "is_active"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["prefix", "name", "account__user__email"]
    readonly_fields = ["prefix", "hashed_secret", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["account"]
    actions = ["revoke_keys"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are shown once at creation: make them where the raw key can be shown
        # (the dashboard or `manage.py createapikey`), not here.
        return False

    @admin.display(boolean=True, description="active")
    def is_active(self, key: ApiKey) -> bool:
        return key.is_active

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
