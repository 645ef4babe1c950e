"""The conference core: the tenant, its territory, its members, the people who act in it.

`Conference` is the tenant. Every model deriving from `TenantModel` carries it, and its
default manager refuses to query outside an active conference scope (cil/tenancy.py).
`Organisation` and `User` are global: an organisation can belong to several conferences,
and a person acting for it can hold roles in several of them.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from cil.roles import RoleName
from cil.validators import validate_insee, validate_qpv_code, validate_siren

# Conference slugs share the URL root with the platform's own pages.
RESERVED_SLUGS = frozenset(
    {
        "admin-plateforme",
        "static",
        "media",
        "connexion",
        "compte",
        "deconnexion",
        "mot-de-passe",
        "invitation",
        "conferences",
        "accessibilite",
        "mentions-legales",
        "donnees-personnelles",
        "api",
        "sante",
        "verification",
    }
)


def validate_conference_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError("Cet identifiant est réservé par la plateforme.", code="reserved")


class Conference(models.Model):
    """A Conférence intercommunale du logement (CCH L.441-1-5): one per EPCI, the tenant."""

    slug = models.SlugField(
        "identifiant", max_length=64, unique=True, validators=[validate_conference_slug]
    )
    name = models.CharField("nom", max_length=255)
    epci_siren = models.CharField(
        "SIREN de l'EPCI", max_length=9, unique=True, validators=[validate_siren]
    )
    # CCH L.441-1-5: the conference is co-chaired by the préfet and the EPCI's president.
    prefet_name = models.CharField("préfet (coprésident)", max_length=255, blank=True)
    president_name = models.CharField(
        "président de l'EPCI (coprésident)", max_length=255, blank=True
    )
    # Roles whose holders must confirm their login with a second factor (TOTP) before any
    # page of this conference; set by the secretariat (cil/two_factor/).
    two_factor_roles = models.JSONField(
        "rôles tenus à la double authentification", default=list, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "conférence"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantModel(models.Model):
    """A row owned by one conference; queried only inside that conference's scope."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(conference="conference")

    class Meta:
        abstract = True


class Commune(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="communes")
    insee = models.CharField("code INSEE", max_length=5, validators=[validate_insee])
    name = models.CharField("nom", max_length=255)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["insee"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "insee"], name="commune_unique_insee")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee})"


class Qpv(TenantModel):
    """A quartier prioritaire de la politique de la ville, with the years its code is valid
    (the 2015 list until 31 Dec 2023, décret 2023-1314 from 1 Jan 2024)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="qpvs")
    code = models.CharField("code", max_length=16, validators=[validate_qpv_code])
    name = models.CharField("nom", max_length=255)
    communes = models.ManyToManyField(Commune, related_name="qpvs")

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "QPV"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "code"], name="qpv_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class QpvYear(TenantModel):
    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    qpv = models.ForeignKey(Qpv, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField("année")

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["year"]
        constraints = [models.UniqueConstraint(fields=["qpv", "year"], name="qpvyear_unique")]

    def __str__(self) -> str:
        return f"{self.qpv_id} : {self.year}"


class OrganisationType(models.TextChoices):
    EPCI = "epci", "EPCI"
    COMMUNE = "commune", "Commune"
    DEPARTEMENT = "departement", "Département"
    ETAT = "etat", "État"
    BAILLEUR = "bailleur", "Bailleur social"
    ACTION_LOGEMENT = "action_logement", "Action Logement"
    ASSOCIATION = "association", "Association"
    RESERVATAIRE = "reservataire", "Autre réservataire"
    MOI = "moi", "Organisme de maîtrise d'ouvrage d'insertion"


class Organisation(models.Model):
    """A legal entity identified by its SIREN; global, it can sit in several conferences."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    siren = models.CharField("SIREN", max_length=9, unique=True, validators=[validate_siren])
    name = models.CharField("nom", max_length=255)
    type = models.CharField("type", max_length=32, choices=OrganisationType.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class College(models.IntegerChoices):
    # CCH L.441-1-5: the three colleges of the conference.
    COLLECTIVITES = 1, "Collège 1 — collectivités territoriales"
    PROFESSIONNELS = 2, "Collège 2 — professionnels des attributions"
    USAGERS = 3, "Collège 3 — usagers et associations"


class Membership(TenantModel):
    """An organisation member of a conference, in one college."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="memberships")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    college = models.PositiveSmallIntegerField("collège", choices=College.choices)
    voting_right = models.BooleanField("droit de vote", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "membre"
        ordering = ["college", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "organisation"], name="membership_unique_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_college_display()})"


class RepresentativeKind(models.TextChoices):
    TITULAIRE = "titulaire", "Titulaire"
    SUPPLEANT = "suppleant", "Suppléant"


class Representative(TenantModel):
    """A named person who represents a member organisation for a mandate."""

    conference = models.ForeignKey(
        Conference, on_delete=models.PROTECT, related_name="representatives"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="representatives"
    )
    first_name = models.CharField("prénom", max_length=150)
    last_name = models.CharField("nom", max_length=150)
    position = models.CharField("fonction", max_length=255, blank=True)
    email = models.EmailField("adresse électronique", blank=True)
    kind = models.CharField("qualité", max_length=16, choices=RepresentativeKind.choices)
    mandate_start = models.DateField("début du mandat")
    mandate_end = models.DateField("fin du mandat", null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "représentant"
        ordering = ["membership__college", "last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mandate_end__isnull=True)
                | models.Q(mandate_end__gte=models.F("mandate_start")),
                name="representative_mandate_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_current(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.mandate_start <= on and (self.mandate_end is None or on <= self.mandate_end)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse électronique est obligatoire.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Acts for one organisation; holds roles per conference through `Access`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("adresse électronique", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("équipe de la plateforme", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Access(TenantModel):
    """A user's account in one conference: the only way a user sees a conference."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="accesses")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accesses"
    )
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "accès"
        ordering = ["user__last_name", "user__first_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "user"], name="access_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.conference_id}"


class Role(TenantModel):
    """One role held by a user in a conference (a user may hold several)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    access = models.ForeignKey(Access, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField("rôle", max_length=32, choices=RoleName.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["access", "name"], name="role_unique_per_access")
        ]

    def __str__(self) -> str:
        return self.get_name_display()


class Invitation(TenantModel):
    """An e-mail invitation for a person of a member organisation, with a role.

    Only the SHA-256 of the token is stored; the token itself travels in the e-mail.
    """

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="invitations")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("adresse électronique")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField("rôle", max_length=32, choices=RoleName.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation de {self.email}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "acceptée"
        if self.revoked_at:
            return "révoquée"
        if self.expires_at <= timezone.now():
            return "expirée"
        return "en attente"

    @property
    def is_pending(self) -> bool:
        return self.status == "en attente"


class AuditAction(models.TextChoices):
    CREATE = "create", "Création"
    UPDATE = "update", "Modification"
    DELETE = "delete", "Suppression"
    INVITE = "invite", "Invitation"
    ACCEPT = "accept", "Acceptation d'invitation"
    REVOKE = "revoke", "Révocation"
    DEACTIVATE = "deactivate", "Désactivation"
    REACTIVATE = "reactivate", "Réactivation"
    IMPORT = "import", "Import"
    TWO_FACTOR_ON = "2fa_on", "Activation de la double authentification"
    TWO_FACTOR_OFF = "2fa_off", "Désactivation de la double authentification"
    PURGE = "purge", "Purge des données personnelles"


class AuditEntry(TenantModel):
    """Who changed what, when, in which conference. Written only by cil/audit.py."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept as text so the entry still says who acted after an account is deleted.
    actor_label = models.CharField(max_length=255)
    actor_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["conference", "-created_at"], name="audit_conf_date")]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
        )


class AccessChannel(models.TextChoices):
    PAGE = "page", "Page"
    EXPORT = "export", "Export"
    API = "api", "API"


class AccessLogEntry(TenantModel):
    """One read of household-level rows by a person or an API token (domain.md §6). Written
    only by `cil.access_journal.journal_household_access`, called by the views that show or
    export such rows; aggregates are not journaled."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Who read, kept as text: the person's address, or the API token's name.
    actor_label = models.CharField(max_length=255)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=AccessChannel.choices)
    object_type = models.CharField(max_length=100)
    # Public ids of the rows read, when few enough to list; otherwise the description says
    # which rows (the filters of a list or an export).
    object_ids = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=500, blank=True)
    row_count = models.PositiveIntegerField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "consultation de données personnelles"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["conference", "-created_at"], name="accesslog_conf_date"),
            models.Index(fields=["conference", "user", "-created_at"], name="accesslog_conf_user"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.row_count} ligne(s)"


class PurgedPeriod(TenantModel):
    """Household-level rows of one kind and year deleted under the retention policy
    (cil/retention.py): the aggregates computed from them for that year are final and are
    never recomputed from the (now missing) rows. Attributions go by whole bilan years;
    demands by radiation date, so their year may be partly purged."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField("année")
    purged_at = models.DateTimeField(default=timezone.now)
    row_count = models.PositiveIntegerField(default=0)

    objects = ScopedManager(conference="conference")

    class Meta:
        ordering = ["category", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "category", "year"], name="purgedperiod_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.year}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "en attente du courtier"
    DISPATCHED = "dispatched", "transmise au courtier"
    COMPLETED = "completed", "exécutée"
    FAILED = "failed", "en échec"


class OutboxMessage(TenantModel):
    """A Celery task asked for by a transaction (cil/outbox.py): written in that transaction,
    published to the broker after the commit (or later by the relay, if the broker was
    down), marked completed by the task's run, so that a re-delivered message runs once."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Publications to the broker (a message re-published by the relay counts again).
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = ScopedManager(conference="conference")

    class Meta:
        verbose_name = "tâche de fond à transmettre"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conference", "status", "created_at"], name="outbox_conf_status")
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.get_status_display()})"
