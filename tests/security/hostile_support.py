"""Hostile files, made in code (shared by tests/security/test_hostile_uploads.py and
bench/hostile_files): a ZIP bomb shaped as an XLSX workbook, « billion laughs » as an XLSX
part and as a plain XML text, a CSV with a 10 MB line, contents that are not their extension's,
and files just over a limit.

The ZIP bomb is written without ever holding its inflated content: one megabyte of zeros is
deflated once, as a segment that stands alone (a full flush resets the compressor's history),
and the segment is repeated; only the CRC is computed over the whole inflated content.
"""

import functools
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.urls import reverse

from attributions import contract
from attributions.models import ImportJob
from cil.governance.models import AgendaAttachment
from cil.governance.services import agenda
from cil.models import Commune
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models.orientations import OrientationDocument
from observatoire.contracts import demandes
from observatoire.models import CommuneBoundary, ObservatoireImport
from tests.conventions.orientations_support import orientation_at, step_data
from tests.governance.support import upcoming_meeting

MB = 1024 * 1024
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<workbook xmlns="{SHEET_NS}" xmlns:r="{REL_NS}">'
    '<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<worksheet xmlns="{SHEET_NS}"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    "</sheetData></worksheet>"
)
LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!DOCTYPE lolz [\n"
    ' <!ENTITY lol "lol">\n'
    ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    + "".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(2, 10)
    )  # 10^9 « lol »: 3 GB once expanded
    + "]>\n"
)


def office_members(sheet: str = SHEET, shared: str | None = None) -> dict[str, bytes]:
    shared = shared or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>reference</t></si></sst>'
    )
    return {
        "[Content_Types].xml": CONTENT_TYPES.encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
        "xl/worksheets/sheet1.xml": sheet.encode(),
        "xl/sharedStrings.xml": shared.encode(),
    }


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def billion_laughs_xlsx() -> bytes:
    """An XLSX whose shared strings expand an entity nested nine levels deep."""
    shared = LAUGHS.replace('<?xml version="1.0" encoding="UTF-8"?>\n', "") + (
        f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    shared = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + shared
    return zip_of(office_members(shared=shared))


def billion_laughs_xml() -> bytes:
    """The same, as a plain XML text (what a .json, .geojson or .pdf upload could carry)."""
    return (LAUGHS + "<lolz>&lol9;</lolz>\n").encode()


def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of already-deflated members: (name, deflated bytes, CRC-32, inflated size)."""
    body = BytesIO()
    central = BytesIO()
    for name, data, crc, size in members:
        offset = body.tell()
        encoded = name.encode()
        fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded))
        body.write(struct.pack("<4s5HLLLHH", b"PK\x03\x04", *fields, 0) + encoded + data)
        central.write(
            struct.pack(
                "<4s6HLLLHHHHHLL",
                b"PK\x01\x02",
                20,
                *fields,
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    directory = central.getvalue()
    end = struct.pack(
        "<4s4HLLH",
        b"PK\x05\x06",
        0,
        0,
        len(members),
        len(members),
        len(directory),
        body.tell(),
        0,
    )
    return body.getvalue() + directory + end


def _deflated(content: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(content) + compressor.flush(), zlib.crc32(content), len(content)


@functools.cache
def zip_bomb_xlsx(inflated_mb: int = 1024) -> bytes:
    """An XLSX whose sheet is `inflated_mb` MB of zeros once inflated (1 GB: about 1 MB
    compressed). Cached: its CRC takes a second to compute."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{SHEET_NS}"><sheetData>'
    head = head.encode()
    block = b"0" * MB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(inflated_mb):
        crc = zlib.crc32(block, crc)
    sheet = first + segment * inflated_mb + tail
    members = [
        (name, *_deflated(content))
        for name, content in office_members().items()
        if name != "xl/worksheets/sheet1.xml"
    ]
    members.append(("xl/worksheets/sheet1.xml", sheet, crc, len(head) + inflated_mb * MB))
    return _raw_zip(members)


def long_line_csv(header: str, line_mb: int = 10) -> bytes:
    """A CSV whose header is right and whose second line is `line_mb` MB long."""
    return header.encode() + b"\r\n" + b"x" * (line_mb * MB) + b"\r\n"


def long_line_text(line_mb: int = 10) -> bytes:
    """One line of `line_mb` MB, separators and no newline: neither JSON nor PDF."""
    return b"a;b;c;" * (line_mb * MB // 6)


PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def padded(head: bytes, size: int) -> bytes:
    """`head` followed by spaces up to `size` bytes (a file just over a limit)."""
    return head + b" " * (size - len(head))


# --- The upload endpoints, and what each is sent -----------------------------------------


@dataclass(frozen=True)
class Endpoint:
    label: str  # as the bench prints it
    shape: str  # "tabular", "json", "pdf", "attachment": which files it is sent
    extension: str  # the extension it accepts, given to files of other formats
    field: str = "file"
    header: str = ""  # a tabular contract's header line
    limit_setting: str | None = None  # the setting of its size limit, when it has one
    default_limit: int = 0  # the limit when no setting holds it

    def limit(self) -> int:
        if self.limit_setting:
            return getattr(settings, self.limit_setting, self.default_limit)
        return self.default_limit


def _header(columns) -> str:
    return ";".join(column.name for column in columns)


ENDPOINTS = {
    "territoire": Endpoint(
        "territoire (JSON)", "json", "json", limit_setting="CIL_TERRITORY_MAX_BYTES"
    ),
    "attributions": Endpoint(
        "import des attributions",
        "tabular",
        "csv",
        header=_header(contract.COLUMNS),
        limit_setting="CIL_IMPORT_MAX_BYTES",
    ),
    "observatoire": Endpoint(
        "import observatoire (demandes)",
        "tabular",
        "csv",
        header=_header(demandes.COLUMNS),
        limit_setting="CIL_IMPORT_MAX_BYTES",
    ),
    "carte": Endpoint(
        "carte (GeoJSON)",
        "json",
        "geojson",
        limit_setting="CIL_MAP_MAX_BYTES",
        default_limit=10 * MB,
    ),
    "piece_jointe": Endpoint(
        "pièce jointe de séance",
        "attachment",
        "pdf",
        limit_setting="CIL_SESSION_ATTACHMENT_MAX_BYTES",
        default_limit=20 * MB,
    ),
    "deliberation": Endpoint(
        "délibération (PDF)", "pdf", "pdf", field="deliberation", default_limit=10 * MB
    ),
    "verification": Endpoint(
        "vérification d'un PDF", "pdf", "pdf", limit_setting="CIL_VERIFICATION_MAX_BYTES"
    ),
}
KINDS = {
    "bombe_zip": "bombe ZIP (XLSX, 1 Go décompressé)",
    "billion_laughs": "billion laughs (entités XML)",
    "ligne_10_mo": "ligne de 10 Mo",
    "contenu_trompeur": "contenu ≠ extension",
    "trop_gros": "trop gros (limite + 2 Mo)",
}


def hostile_file(endpoint: Endpoint, kind: str, limit: int | None = None) -> tuple[str, bytes]:
    """(file name, content) of one hostile kind, shaped for what the endpoint accepts; the
    oversize file is `limit` (default: the endpoint's) + 2 MB."""
    limit = endpoint.limit() if limit is None else limit
    ext, shape = endpoint.extension, endpoint.shape
    office = shape in ("tabular", "attachment")  # takes .xlsx: the bomb stays a workbook
    if kind == "bombe_zip":
        return ("bombe.xlsx" if office else f"bombe.{ext}"), zip_bomb_xlsx()
    if kind == "billion_laughs":
        if office:
            return "rires.xlsx", billion_laughs_xlsx()
        return f"rires.{ext}", billion_laughs_xml()
    if kind == "ligne_10_mo":
        if shape == "tabular":
            return "longue.csv", long_line_csv(endpoint.header)
        if shape == "attachment":
            return "longue.csv", long_line_csv("titre;valeur")
        return f"longue.{ext}", long_line_text()
    if kind == "contenu_trompeur":
        if shape == "tabular":
            return "faux.csv", PDF_BYTES
        if shape == "json":
            return f"faux.{ext}", PDF_BYTES
        return "faux.pdf", PNG_BYTES
    head = {
        "tabular": endpoint.header.encode() + b"\r\n",
        "json": b'{"type": "FeatureCollection", "features": []}',
        "pdf": PDF_BYTES,
        "attachment": PDF_BYTES,
    }[shape]
    return f"gros.{ext}", padded(head, limit + 2 * MB)


@dataclass
class Target:
    url: str
    data: dict
    user: object | None
    rows: Callable[[], int]  # the count of the rows this upload would write


def target_for(name: str, world) -> Target:
    """The page of an endpoint in conference A of `world`, its other fields, who posts."""
    tenant = world.a
    conference = tenant.conference
    secretariat = tenant.users[RoleName.SECRETARIAT]
    slug = {"conference_slug": conference.slug}

    def scoped_count(model):
        def count():
            with conference_scope(conference):
                return model.objects.count()

        return count

    if name == "territoire":
        return Target(
            reverse("territory_upload", kwargs=slug), {}, secretariat, scoped_count(Commune)
        )
    if name == "attributions":
        return Target(
            reverse("import_upload", kwargs=slug), {}, secretariat, scoped_count(ImportJob)
        )
    if name == "observatoire":
        return Target(
            reverse("observatoire_import_upload", kwargs=slug),
            {"kind": "demandes", "year": "2025"},
            secretariat,
            scoped_count(ObservatoireImport),
        )
    if name == "carte":
        return Target(
            reverse("observatoire_map_upload", kwargs=slug),
            {},
            secretariat,
            scoped_count(CommuneBoundary),
        )
    if name == "piece_jointe":
        meeting = upcoming_meeting(tenant)
        with conference_scope(conference):
            item = agenda.item_save(
                conference=conference,
                actor=secretariat,
                meeting=meeting,
                kind="information",
                title="Bilan annuel",
            )
        url = reverse(
            "attachment_add",
            kwargs={**slug, "meeting_id": meeting.public_id, "item_id": item.public_id},
        )
        return Target(url, {"title": ""}, secretariat, scoped_count(AgendaAttachment))
    if name == "deliberation":
        document = orientation_at(conference, tenant.users, "adopte_cil")
        data = {"base_version": 1, "comment": ""}
        for key, value in step_data("deliberer").items():
            data[key] = value.isoformat() if hasattr(value, "isoformat") else value
        url = reverse("orientation_deliberate", kwargs={**slug, "document_id": document.public_id})

        def delibere():
            with conference_scope(conference):
                return OrientationDocument.objects.filter(state="delibere_epci").count()

        return Target(url, data, secretariat, delibere)
    assert name == "verification"
    return Target(reverse("document_verification"), {}, None, lambda: 0)
