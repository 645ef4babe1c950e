"""Helpers of the documents pipeline tests: a conference with a bilan, text and signature
checks of a PDF."""

import subprocess
from decimal import Decimal
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from attributions.models import RuleRates
from attributions.services import attribution_save
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import DocumentKind, GeneratedDocument
from conventions.pdf.bilan import bilan_title
from conventions.pdf.loops import outside_event_loop
from conventions.pdf.services import document_request, run_generation
from tests.attributions.factories import row
from tests.world import World, build_world

YEAR = 2025


def bilan_world() -> World:
    """The two-conference world; in A for 2025, a R1 objective of 30 % and 12 more lines of
    the bailleur user's organisation (2 of them Q1)."""
    world = build_world()
    conference = world.a.conference
    bailleur = world.a.users[RoleName.BAILLEUR].organisation
    with conference_scope(conference):
        RuleRates.objects.create(conference=conference, year=YEAR, target_r1=Decimal("0.3"))
        insee = conference.communes.first().insee
        for n in range(12):
            attribution_save(
                conference=conference,
                actor=None,
                raw=row(
                    bailleur,
                    reference=f"PDF-{n}",
                    commune_insee=insee,
                    revenu_annuel="8000" if n < 2 else "40000",
                ),
            )
    return world


def produce_bilan(world: World, tenant=None, *, year: int = YEAR) -> GeneratedDocument:
    """Request the bilan PDF of `tenant` (A by default) and produce it inline."""
    tenant = tenant or world.a
    conference = tenant.conference
    with conference_scope(conference):
        document = document_request(
            conference=conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            kind=DocumentKind.BILAN_ANNUEL,
            title=bilan_title(conference, year),
            subject_type="attributions.bilan",
            year=year,
        )
        run_generation(document_id=document.pk)
        document.refresh_from_db()
    return document


def stored_bytes(document: GeneratedDocument) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def pdf_text(data: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (reading order, ligatures resolved)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def flat(text: str) -> str:
    """Text with hyphenation undone and every run of spaces (narrow no-break included) made
    one space, to search sentences that the layout broke across lines."""
    text = text.replace("\u2010\n", "").replace("\u00ad\n", "")
    return " ".join(text.replace("\u202f", " ").split())


def validation_status(data: bytes, trust_root, index: int = 0):
    reader = PdfFileReader(BytesIO(data), strict=False)
    context = ValidationContext(
        trust_roots=[trust_root], allow_fetching=False, revocation_mode="soft-fail"
    )
    return outside_event_loop(validate_pdf_signature, reader.embedded_signatures[index], context)


def flip_byte(data: bytes, position: int | None = None) -> bytes:
    """`data` with one byte changed, by default in the middle of the first signed range."""
    position = len(data) // 4 if position is None else position
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)
