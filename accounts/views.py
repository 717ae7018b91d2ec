"""Browser sign-up; log-in and log-out are Django's own views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import SignupForm

# Named, so a later second backend (SSO, ...) cannot make login() ambiguous.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


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
