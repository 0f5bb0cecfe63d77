"""People and teams: users log in by email; agencies share projects among their members."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in with an email address; there is no username."""

    username = None
    email = models.EmailField("email address", unique=True)
    inactivity_notice_sent_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(
        null=True, blank=True, help_text="Deleted after this date if still inactive."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


def owned_by_user_xor_agency(user_field: str, name: str) -> models.CheckConstraint:
    """Something that belongs either to one user or to one agency, never both or neither."""

    def owner(is_user: bool) -> Q:
        return Q(**{f"{user_field}__isnull": not is_user}) & Q(agency__isnull=is_user)

    return models.CheckConstraint(condition=owner(True) | owner(False), name=name)


class Agency(models.Model):
    """A real-estate team: its members share the agency's projects (and, later, its plan)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    watermark_text = models.CharField(max_length=120, blank=True)
    logo_key = models.CharField(max_length=300, blank=True, help_text="Storage key of the logo.")
    members = models.ManyToManyField(User, through="Membership", related_name="agencies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# A member's monthly cap beyond any plan's quota means nothing; the bound keeps numbers a
# database column holds (PositiveIntegerField) and gives a 400 instead of an overflow.
MONTHLY_CAP_MAX = 1_000_000


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    # Owners and admins manage the agency: team, billing, presets, webhooks, projects.
    MANAGER_ROLES = (Role.OWNER, Role.ADMIN)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Per-member caps inside the agency's pooled quota, set by the agency's admins.
    monthly_processed_limit = models.PositiveIntegerField(null=True, blank=True)
    monthly_ai_limit = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_unique_user_agency")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.agency} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in self.MANAGER_ROLES


class Invitation(models.Model):
    """A seat offered to someone who has no account yet; accepted once they sign up."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default="member")
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.agency}"
