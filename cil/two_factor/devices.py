"""Second-factor devices of a user: enrolment, verification, backup codes, removal.

A user has at most one TOTP device (an authenticator application) and, with it, one static
device holding single-use backup codes. The secret of an enrolment in progress lives in the
session until the first code confirms it; only then is the device stored. Verification goes
through django-otp's devices, which refuse a code already used (TOTP `last_t`) and slow down
repeated failures (throttling).
"""

import io
from base64 import b32encode
from binascii import unhexlify

import segno
from django.conf import settings
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from cil import audit
from cil.models import AuditAction, User
from cil.selectors import conferences_of
from cil.tenancy import conference_scope

DEVICE_NAME = "Application d'authentification"
BACKUP_NAME = "Codes de secours"
ENROLMENT_SESSION_FIELD = "cil_2fa_pending_secret"


def totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Enrolment --------------------------------------------------------------------------


def pending_secret(session) -> str:
    """The hex secret of the enrolment in progress (made on first use, kept in the session
    until confirmed, so that reloading the page keeps the same QR code)."""
    key = session.get(ENROLMENT_SESSION_FIELD)
    if not key:
        key = random_hex(20)
        session[ENROLMENT_SESSION_FIELD] = key
    return key


def _unsaved_device(user: User, key: str) -> TOTPDevice:
    return TOTPDevice(user=user, key=key, name=DEVICE_NAME)


def provisioning_uri(user: User, key: str) -> str:
    """The otpauth:// URI an authenticator application reads from the QR code."""
    return _unsaved_device(user, key).config_url


def secret_for_manual_entry(key: str) -> str:
    """The secret in base32, in groups of 4 characters, for typing into an application."""
    text = b32encode(unhexlify(key)).decode("ascii")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(uri: str) -> str:
    """The QR code as an inline SVG drawn on the server: presentation attributes only (no
    style attribute, no script), dark modules on a white square so that it reads in dark
    mode too."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgns=True,
        nl=False,
        title="Code QR à scanner avec votre application d'authentification",
        svgclass="cil-qr",
        omitsize=True,  # a viewBox instead: the stylesheet sets the size
        lineclass=None,
    )
    return buffer.getvalue().decode("utf-8")


def normalise_code(code: str) -> str:
    return "".join(code.split()).lower()


def enrolment_confirm(*, user: User, key: str, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Store the TOTP device when `code` is right for the pending secret; returns the device
    and the new backup codes (shown once), or None. Any previous device is replaced."""
    code = normalise_code(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    checker = TOTP(unhexlify(key))
    if not checker.verify(int(code), tolerance=1):
        return None
    with transaction.atomic():
        _delete_devices(user)
        device = _unsaved_device(user, key)
        device.confirmed = True
        device.last_t = checker.t()  # the confirming code cannot be replayed at login
        device.save()
        codes = _new_backup_codes(user)
        _audit(user, AuditAction.TWO_FACTOR_ON, "Double authentification activée")
    return device, codes


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.CIL_TWO_FACTOR_BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def backup_codes_regenerate(*, user: User) -> list[str]:
    """New backup codes replace the old ones (shown once)."""
    with transaction.atomic():
        codes = _new_backup_codes(user)
        _audit(user, AuditAction.UPDATE, "Nouveaux codes de secours générés")
    return codes


# --- Verification -----------------------------------------------------------------------


def verify_code(user: User, code: str) -> Device | None:
    """The device that accepts `code`: 6 digits for the application, otherwise a backup code
    (used up by this verification). None when wrong, already used or throttled."""
    code = normalise_code(code)
    if not code:
        return None
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is not None and device.verify_token(code):
            return device
    return None


def mark_verified(request, device: Device) -> None:
    """Record in the session that this login was confirmed with `device`."""
    otp_login(request, device)


def is_verified(request) -> bool:
    """Whether this session's login was confirmed by a device that still exists."""
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == request.user.pk


# --- Removal ----------------------------------------------------------------------------


def disable(*, request, user: User) -> None:
    """Remove the user's devices and backup codes (the caller has checked the password and a
    code)."""
    with transaction.atomic():
        _delete_devices(user)
        _audit(user, AuditAction.TWO_FACTOR_OFF, "Double authentification désactivée")
    request.session.pop(DEVICE_ID_SESSION_KEY, None)


def _delete_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _audit(user: User, action: str, text: str) -> None:
    """One entry in each conference where the user holds a role: its secretariat follows
    the security of its members' accounts."""
    for conference in conferences_of(user):
        with conference_scope(conference):
            audit.record(
                conference=conference,
                actor=user,
                action=action,
                object_type="cil.user",
                object_id=str(user.public_id),
                object_repr=f"{text} : {user.email}",
            )
