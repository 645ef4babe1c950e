"""Make the platform's seal: an RSA-3072 key and a self-signed certificate, in a PKCS#12
file protected by CIL_SEAL_PKCS12_PASSPHRASE.

For the demo and the tests. A production instance should rather use a certificate issued
by a qualified provider (cachet électronique qualifié, eIDAS art. 36-38) and point
CIL_SEAL_PKCS12_PATH at it.

The certificate's public part is archived in the history folder (conventions/pdf/sealing.py);
with --force, the certificate being replaced is archived first, so that the documents it
sealed still verify. No key is ever archived.
"""

import datetime
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from pyhanko.sign import signers

from conventions.pdf.sealing import archive_certificate, fingerprint, history_dir


def make_seal_pkcs12(
    *,
    common_name: str,
    organisation: str,
    passphrase: str,
    days: int = 3 * 365,
    valid_from: datetime.datetime | None = None,
) -> bytes:
    """A PKCS#12 holding a new RSA-3072 key and its self-signed seal certificate, valid
    `days` days from `valid_from` (by default: five minutes ago, against clock skew)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    start = valid_from or datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
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
        "autosigné) dans un fichier PKCS#12 protégé par CIL_SEAL_PKCS12_PASSPHRASE, et "
        "archive la partie publique de son certificat (et, avec --force, celle du certificat "
        "remplacé) pour la page de vérification."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help="Fichier à créer (par défaut : CIL_SEAL_PKCS12_PATH, var/seal.p12).",
        )
        parser.add_argument("--force", action="store_true", help="Remplacer un fichier existant.")
        parser.add_argument(
            "--no-archive",
            action="store_true",
            help=(
                "Avec --force, remplacer le cachet même si son certificat ne peut pas être "
                "archivé (les documents qu'il a scellés ne seront plus vérifiables)."
            ),
        )
        parser.add_argument("--days", type=int, default=3 * 365, help="Durée de validité en jours.")

    def handle(self, *args, path, force, no_archive, days, **options):
        passphrase = settings.CIL_SEAL_PKCS12_PASSPHRASE
        if not passphrase:
            raise CommandError("CIL_SEAL_PKCS12_PASSPHRASE n'est pas défini.")
        if days < 1:
            raise CommandError(f"Durée de validité invalide : {days} jours (au moins 1).")
        target = Path(path or settings.CIL_SEAL_PKCS12_PATH)
        history = history_dir(target)
        if target.exists():
            if not force:
                raise CommandError(
                    f"{target} existe déjà : les documents déjà scellés restent vérifiables "
                    "seulement avec ce certificat. Ajoutez --force pour le remplacer (son "
                    "certificat sera archivé)."
                )
            self._archive_previous(target, passphrase, history, no_archive=no_archive)
        data = make_seal_pkcs12(
            common_name=settings.CIL_SEAL_NAME,
            organisation=settings.CIL_OPERATOR_NAME,
            passphrase=passphrase,
            days=days,
        )
        certificate = _certificate_of(data, passphrase)
        # Archived before the key is written: a seal in use always has its certificate in
        # the history.
        archive_certificate(certificate, history)
        _write_private(target, data)
        self.stdout.write(
            f"Cachet électronique écrit dans {target} (valable {days} jours ; certificat "
            f"{fingerprint(certificate)} archivé dans {history})."
        )

    def _archive_previous(self, target: Path, passphrase: str, history: Path, *, no_archive):
        try:
            previous = _certificate_of(target.read_bytes(), passphrase)
        except (OSError, ValueError) as error:
            if no_archive:
                self.stderr.write(
                    f"Certificat de {target} illisible, non archivé ({error}) : les documents "
                    "qu'il a scellés ne seront plus vérifiables."
                )
                return
            raise CommandError(
                f"Le cachet actuel {target} est illisible avec CIL_SEAL_PKCS12_PASSPHRASE : "
                "son certificat ne peut pas être archivé, et les documents qu'il a scellés ne "
                "seraient plus vérifiables. Corrigez la phrase secrète, ou ajoutez "
                "--no-archive pour le remplacer quand même."
            ) from None
        archived = archive_certificate(previous, history)
        self.stdout.write(f"Certificat remplacé archivé : {archived}")


def _certificate_of(data: bytes, passphrase: str):
    """The certificate (asn1crypto) of a PKCS#12 file; ValueError when unreadable."""
    signer = signers.SimpleSigner.load_pkcs12_data(
        data, other_certs=[], passphrase=passphrase.encode()
    )
    return signer.signing_cert


def _write_private(target: Path, data: bytes) -> None:
    """Write the key file readable by its owner only, by a temporary file renamed over the
    target: a process sealing meanwhile reads the old file or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".p12")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp: mode 0o600 already
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
