"""Login users and customer accounts.

The login ``User`` owns the email; a ``Customer`` account belongs to exactly one user and owns the
business name, contact person and phone. No personal value is stored twice.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from consent.history import PersonalHistory, TrackedModel, TrackedQuerySet

from .normalize import email_equals, normalize_email
from .validators import validate_normalized_email


class UserManager(BaseUserManager.from_queryset(TrackedQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email_equals("email", username or ""))

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin, TrackedModel):
    """A login: customers, staff and compliance reviewers alike. Email is the username."""

    email = models.EmailField(_("email"), max_length=254)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can sign in to the staff admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=[("vi", _("Vietnamese")), ("en", _("English"))],
        default="vi",
    )

    history = PersonalHistory(excluded_fields=["password", "last_login"])

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Django takes the base manager from the first parent, AbstractBaseUser (a plain one):
        # name the tracked manager, so that _base_manager.update() cannot skip history either.
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("This email cannot be used for a new account."),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        try:
            validate_normalized_email(self.email)
        except ValidationError as error:
            raise ValidationError({"email": error.error_list}) from None


class Customer(TrackedModel):
    """A business that signed up for ExcelCRM, with its contact person."""

    PERSONAL_FIELDS = ("contact_person", "phone", "email")

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="customer", verbose_name=_("login")
    )
    business_name = models.CharField(
        _("business name"),
        max_length=200,
        validators=[MinLengthValidator(1), MaxLengthValidator(200)],
    )
    contact_person = models.CharField(
        _("contact person"),
        max_length=200,
        validators=[MinLengthValidator(1), MaxLengthValidator(200)],
    )
    phone = PhoneNumberField(_("phone number"), region="VN", db_index=True)
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now, db_index=True)

    history = PersonalHistory()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.business_name

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def language(self) -> str:
        return self.user.language
