"""Browser pages of accounts: sign-up, log-in, the developer dashboard, the account's data.

Thin on purpose: workflows live in accounts.services, numbers in accounts.usage and
accounts.quotas, and every lookup is scoped to the logged-in user's account.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import form_tokens, quotas, rate_limits, services, usage
from accounts.forms import ApiKeyForm, CloseAccountForm, EmailLoginForm, SignupForm
from accounts.keys import NewKey
from accounts.page_limits import limit_posts_per_ip

# Named, so a later second backend (SSO, ...) cannot make login() ambiguous.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
LEDGER_ROWS = 20
FALLBACK_RETRY_AFTER_S = 60

View = Callable[..., HttpResponse]


# --- Sign-up and log-in -------------------------------------------------------------------


@limit_posts_per_ip(group="accounts.signup", rate_setting="SIGNUP_RATE")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("swaps:new")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            user = form.save()
        except IntegrityError:  # the same address signed up a moment ago
            form.add_error("email", "An account with this email already exists.")
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, "Welcome! Your account is ready.")
            return redirect("swaps:new")
    return render(request, "accounts/signup.html", {"form": form})


login_view = limit_posts_per_ip(group="accounts.login", rate_setting="LOGIN_RATE")(
    LoginView.as_view(authentication_form=EmailLoginForm)
)


# --- Developer dashboard ------------------------------------------------------------------


def _render_dashboard(
    request: HttpRequest,
    *,
    key_form: ApiKeyForm | None = None,
    new_key: NewKey | None = None,
    webhook_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    account = quotas.account_for(user=request.user)
    windows = rate_limits.window_statuses(account=account)
    context = {
        "account": account,
        "plan": account.plan,
        "windows": [windows["hour"], windows["day"]],
        "chart": usage.build_chart(usage.daily_usage(account=account)),
        "ledger": account.ledger.all()[:LEDGER_ROWS],
        "api_keys": account.api_keys.all(),
        "key_form": key_form or ApiKeyForm(),
        "new_key": new_key,
        "webhook_secret": webhook_secret,
        "form_tokens": {
            "create_key": form_tokens.issue(request, "create-key"),
            "rotate_secret": form_tokens.issue(request, "rotate-secret"),
        },
    }
    return render(request, "accounts/dashboard.html", context, status=status)


def _already_sent(request: HttpRequest, what: str, anchor: str) -> HttpResponse:
    """A repeated POST (a reload): nothing changes, the dashboard says so."""
    messages.info(request, f"That form was already sent: {what}")
    return redirect(reverse("dashboard:home") + anchor)


@login_required
@require_safe
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    return _render_dashboard(request)


@login_required
@require_POST
@never_cache
def create_key(request: HttpRequest) -> HttpResponse:
    if not form_tokens.redeem(request, "create-key"):
        return _already_sent(
            request, "the key it made was shown once; create another if you need one.", "#api-keys"
        )
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_dashboard(request, key_form=form, status=400)
    try:
        new_key = services.create_key(
            account=quotas.account_for(user=request.user), name=form.cleaned_data["name"]
        )
    except services.KeyLimitReached as error:
        form.add_error(None, str(error))
        return _render_dashboard(request, key_form=form, status=400)
    # Shown in this very response (no redirect), so the raw key never sits in a
    # session row or cache between two requests; no-store keeps it out of the cache.
    return _render_dashboard(request, new_key=new_key)


@login_required
@require_POST
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = services.revoke_key(account=quotas.account_for(user=request.user), key_id=key_id)
    if key is None:
        raise Http404("No such API key.")
    messages.success(request, f"The key “{key.name or key.prefix}” is revoked.")
    return redirect(reverse("dashboard:home") + "#api-keys")


@login_required
@require_POST
@never_cache
def reveal_secret(request: HttpRequest) -> HttpResponse:
    # POST, not a toggle: the secret is in no page's HTML until someone asks for it.
    account = quotas.account_for(user=request.user)
    return _render_dashboard(request, webhook_secret=account.webhook_secret)


@login_required
@require_POST
@never_cache
def rotate_secret(request: HttpRequest) -> HttpResponse:
    if not form_tokens.redeem(request, "rotate-secret"):
        return _already_sent(request, "the secret was rotated once.", "#webhook-secret")
    secret = services.rotate_webhook_secret(account=quotas.account_for(user=request.user))
    messages.success(request, "The webhook secret was rotated; the old one no longer works.")
    return _render_dashboard(request, webhook_secret=secret)


# --- The account's data: download it, delete the account ------------------------------------


@login_required
@require_safe
@never_cache
def export_data(request: HttpRequest) -> HttpResponse:
    """ "Download my data": the account's export as a JSON file (GET: it changes nothing)."""
    data = services.export_account(
        account=quotas.account_for(user=request.user), absolute_url=request.build_absolute_uri
    )
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="faceswap-data.json"'
    return response


@limit_posts_per_ip(group="accounts.close", rate_setting="LOGIN_RATE")
@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def close_account(request: HttpRequest) -> HttpResponse:
    """'Delete my account': confirmed with the password, then erased, logged out, redirected."""
    posted = request.method == "POST"
    form = CloseAccountForm(request.POST if posted else None, user=request.user)
    if posted and not form_tokens.redeem(request, "close-account"):
        return _already_sent(request, "nothing was deleted; send the form again.", "")
    if form.is_bound and form.is_valid():
        services.close_account(account=quotas.account_for(user=request.user))
        logout(request)
        messages.success(request, "Your account and its data are deleted.")
        return redirect("home")
    context = {"form": form, "form_token": form_tokens.issue(request, "close-account")}
    return render(request, "accounts/close.html", context, status=400 if posted else 200)
