"""Accounts (optional): sign up, the account page (API tokens, change password, delete the
account and everything in it). Sign-in/out and password change are Django's own views
(sersite/urls.py); sign-in is rate-limited per address and guarded by django-axes."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST

from . import limits, services, tokens
from .forms import DeleteAccountForm, TokenForm


@require_http_methods(["GET", "POST"])
@limits.limited("sign-up", "SER_RATE_SIGN_IN")
def sign_up(request):
    """Make an account; the visitor's analyses move into it (owners.adopt on sign-in)."""
    form = UserCreationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your analyses so far are now in your account.")
        return redirect("account")
    return render(request, "registration/sign_up.html", {"form": form},
                  status=400 if form.errors else 200)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked user name/address pair: 429, Retry-After, a page."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes},
                      status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


@method_decorator(limits.limited("sign-in", "SER_RATE_SIGN_IN"), name="dispatch")
class SignInView(LoginView):
    """Django's LoginView, rate-limited per address (django-axes also locks a user name after
    repeated failures from one address)."""


def _account_page(request, token_form=None, delete_form=None, new_secret=None, status=200):
    return render(request, "registration/account.html", {
        "tokens": request.user.api_tokens.all(), "token_form": token_form or TokenForm(),
        "delete_form": delete_form or DeleteAccountForm(request.user),
        "new_secret": new_secret, "keep_days": services.keep_audio_days(),
        "result_days": services.keep_results_days()}, status=status)


@login_required
def account(request):
    """The account page: personal API tokens, password, deleting the account."""
    return _account_page(request)


MAX_TOKENS = 20   # per account


@login_required
@require_POST
def token_create(request):
    """Make a personal API token; its secret is shown once, on this answer only."""
    form = TokenForm(request.POST)
    if form.is_valid() and request.user.api_tokens.count() >= MAX_TOKENS:
        form.add_error(None, f"You already have {MAX_TOKENS} tokens; revoke one first.")
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    _, secret = tokens.create(request.user, form.cleaned_data["name"])
    response = _account_page(request, new_secret=secret)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, token_id):
    """Revoke one of the account's tokens (it stops working at once)."""
    get_object_or_404(request.user.api_tokens, pk=token_id).delete()
    messages.success(request, "The token was revoked.")
    return redirect("account")


@login_required
@require_POST
def delete_account(request):
    """Delete the account, every analysis and kept recording in it, its tokens and links."""
    form = DeleteAccountForm(request.user, request.POST)
    if not form.is_valid():
        return _account_page(request, delete_form=form, status=400)
    user = request.user
    count = services.delete_all(request.owner)
    logout(request)
    user.delete()
    messages.success(request, f"Your account and its {count} analys"
                              f"{'is' if count == 1 else 'es'} were deleted.")
    return redirect("home")
