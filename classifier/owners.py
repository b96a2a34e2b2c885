"""Who owns what: every stored item belongs to an account or to an anonymous visitor.

A visitor is a random UUID in a signed, HttpOnly, long-lived cookie (the site works without
signing up); an account is a Django user. `OwnerMiddleware` puts the caller on `request.owner`
(an `Owner`); every query of owned rows goes through it, so another owner's item is simply not
found (views answer 404, never 403):

    class VoiceProfile(Owned):                      # user + visitor columns, owned_by()
        ...
    VoiceProfile.objects.owned_by(request.owner)    # only the caller's rows
    VoiceProfile.objects.create(**request.owner.fields(), ...)

The JSON API ignores cookies: its owner is the account of the `Authorization: Bearer` token
(classifier/tokens.py). Signing in adopts the visitor's items into the account (every concrete
`Owned` model); signing out drops the visitor cookie so the next visitor of a shared browser
starts empty.
"""
import hashlib
import uuid
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core import signing
from django.db import models
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject

COOKIE = "ser_visitor"
COOKIE_SALT = "classifier.owners.visitor"
COOKIE_MAX_AGE_S = 365 * 24 * 3600


@dataclass(frozen=True)
class Owner:
    """An account (user_id) or an anonymous visitor (visitor UUID); exactly one is set."""
    user_id: int | None = None
    visitor: uuid.UUID | None = None

    @property
    def is_account(self):
        return self.user_id is not None

    @property
    def key(self):
        """A stable text key of this owner, e.g. for rate limits: "user:7" or "visitor:<uuid>"."""
        return f"user:{self.user_id}" if self.is_account else f"visitor:{self.visitor}"

    @property
    def tag(self):
        """A short keyed hash of the owner (safe to put in file names)."""
        return hashlib.sha256(f"{settings.SECRET_KEY}:{self.key}".encode()).hexdigest()[:16]

    def fields(self):
        """Model field values that give a new row to this owner."""
        return {"user_id": self.user_id, "visitor": None if self.is_account else self.visitor}

    def filter(self, queryset):
        """The rows of queryset that belong to this owner."""
        if self.is_account:
            return queryset.filter(user_id=self.user_id)
        return queryset.filter(user__isnull=True, visitor=self.visitor)


class OwnedQuerySet(models.QuerySet):
    def owned_by(self, owner):
        """Only the rows of owner (an Owner)."""
        return owner.filter(self)

    def ownerless(self):
        """Rows that belong to nobody (made before owners existed); nobody can reach them."""
        return self.filter(user__isnull=True, visitor__isnull=True)


class Owned(models.Model):
    """Abstract base of every model whose rows belong to an account or a visitor."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    visitor = models.UUIDField(null=True, blank=True, db_index=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        abstract = True


def owned_models():
    """Every concrete model whose rows have an owner."""
    return [m for m in apps.get_models() if issubclass(m, Owned)]


def read_visitor(request):
    """The visitor UUID of the request's cookie, or None (missing, forged or malformed)."""
    try:
        return uuid.UUID(request.get_signed_cookie(COOKIE, salt=COOKIE_SALT,
                                                   max_age=COOKIE_MAX_AGE_S))
    except (KeyError, ValueError, signing.BadSignature):
        return None


def _owner_of(request):
    if request.user.is_authenticated:
        return Owner(user_id=request.user.pk)
    if request.visitor_id is None:
        request.visitor_id = uuid.uuid4()
        request.new_visitor = True
    return Owner(visitor=request.visitor_id)


class OwnerMiddleware:
    """Set request.owner (lazily) and the visitor cookie when a new visitor was needed.

    Goes after AuthenticationMiddleware. The cookie is only set when the request used
    request.owner, so static files and the API never set one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.visitor_id = read_visitor(request)
        request.new_visitor = False
        request.drop_visitor = False
        request.owner = SimpleLazyObject(lambda: _owner_of(request))
        response = self.get_response(request)
        if request.drop_visitor:
            response.delete_cookie(COOKIE, samesite="Lax")
        elif request.new_visitor:
            response.set_signed_cookie(COOKIE, str(request.visitor_id), salt=COOKIE_SALT,
                                       max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="Lax",
                                       secure=settings.SESSION_COOKIE_SECURE)
        return response


def adopt(visitor, user):
    """Give every item of the anonymous visitor to the account user; returns how many."""
    if visitor is None:
        return 0
    return sum(model.objects.filter(user__isnull=True, visitor=visitor)
               .update(user=user, visitor=None) for model in owned_models())


@receiver(user_logged_in)
def _adopt_on_sign_in(sender, request, user, **kwargs):
    if request is not None:
        adopt(read_visitor(request), user)
        request.drop_visitor = True


@receiver(user_logged_out)
def _forget_visitor_on_sign_out(sender, request, **kwargs):
    if request is not None:
        request.drop_visitor = True
