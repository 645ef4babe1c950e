"""Make the platform's seal: an RSA-3072 key and a self-signed certificate, in a PKCS#12
file protected by CIL_SEAL_PKCS12_PASSPHRASE.

For the demo and the tests. A production instance should rather use a certificate issued
by a qualified provider (cachet électronique qualifié, eIDAS art. 36-38) and point
CIL_SEAL_PKCS12_PATH at it.
"""

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def make_seal_pkcs12(
    *, common_name: str, organisation: str, passphrase: str, days: int = 3 * 365
) -> bytes:
    """A PKCS#12 holding a new RSA-3072 key and its self-signed seal certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        name=common_name[:64].encode(),
        key=key,
        cert=certificate,
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase.encode()),
    )


class Command(BaseCommand):
    help = (
        "Génère le cachet électronique de la plateforme (clé RSA-3072 et certificat "
        "autosigné) dans un fichier PKCS#12 protégé par CIL_SEAL_PKCS12_PASSPHRASE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help="Fichier à créer (par défaut : CIL_SEAL_PKCS12_PATH, var/seal.p12).",
        )
        parser.add_argument("--force", action="store_true", help="Remplacer un fichier existant.")
        parser.add_argument("--days", type=int, default=3 * 365, help="Durée de validité en jours.")

    def handle(self, *args, path, force, days, **options):
        passphrase = settings.CIL_SEAL_PKCS12_PASSPHRASE
        if not passphrase:
            raise CommandError("CIL_SEAL_PKCS12_PASSPHRASE n'est pas défini.")
        target = Path(path or settings.CIL_SEAL_PKCS12_PATH)
        if target.exists() and not force:
            raise CommandError(
                f"{target} existe déjà : les documents déjà scellés restent vérifiables "
                "seulement avec ce certificat. Ajoutez --force pour le remplacer."
            )
        data = make_seal_pkcs12(
            common_name=settings.CIL_SEAL_NAME,
            organisation=settings.CIL_OPERATOR_NAME,
            passphrase=passphrase,
            days=days,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        # The key file is readable by its owner only.
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        self.stdout.write(f"Cachet électronique écrit dans {target} (valable {days} jours).")
