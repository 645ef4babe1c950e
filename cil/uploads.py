"""The checks every uploaded file goes through, whatever the page: its size, whether its content
is what its extension says (first bytes, never the name or the type the browser announces),
and, for ZIP-based formats (XLSX, DOCX, ODF…), what the archive would become once opened —
before any parser touches it.

Hostile files this refuses, each with a French sentence naming the problem:
- a ZIP bomb: members that inflate past a total cap or by more than `ZIP_MAX_RATIO` times
  their compressed size (Apache POI refuses the same 1 % minimum inflate ratio), or too many
  members;
- « billion laughs » and external entities: any DTD (`<!DOCTYPE`, `<!ENTITY`) in the prolog of
  an XML part (Office never writes one; openpyxl is safe from them only when defusedxml happens
  to be installed, so this does not rely on it);
- a file whose content is not its extension's (a ZIP named .csv, XML named .json…);
- an upload over its page's limit: `CappedUploadHandler` stops storing it at the limit (no
  temporary file beyond it) and hands the form a placeholder whose size the form refuses.

The checks take binary streams and raise `UploadRefused`; only the handler needs Django.
"""

import codecs
import json
import re
import zipfile
from pathlib import PurePath
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

# An XLSX part or a DOCX part is text that compresses well, rarely beyond 30 times; a ZIP bomb
# inflates about 1,000 times. Members under the grace size are not judged on their ratio (a
# small repetitive part can legitimately compress 200 times).
ZIP_MAX_RATIO = 100
ZIP_RATIO_GRACE = 1024 * 1024
ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNCOMPRESSED = 500 * 1024 * 1024
# What comes before the root element of an XML part (declaration, comments): a few hundred
# bytes in real files.
XML_PROLOG_MAX = 64 * 1024
# Encodings an Office or ODF part may declare; any other could hide a DTD from a byte search.
XML_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "us-ascii", "ascii", "iso-8859-1", "latin1"}
# A text attachment (.csv, .txt) is read by people: a line this long is not one of theirs.
TEXT_MAX_LINE_BYTES = 1024 * 1024
HEAD = 8192

# Members that make an archive the format its extension names.
OFFICE_MEMBERS = {
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "pptx": ("[Content_Types].xml", "ppt/presentation.xml"),
    "odt": ("mimetype", "content.xml"),
    "ods": ("mimetype", "content.xml"),
    "odp": ("mimetype", "content.xml"),
}
FORMAT_NAMES = {
    "xlsx": "classeur Excel (.xlsx)",
    "docx": "document Word (.docx)",
    "pptx": "présentation PowerPoint (.pptx)",
    "odt": "document OpenDocument (.odt)",
    "ods": "classeur OpenDocument (.ods)",
    "odp": "présentation OpenDocument (.odp)",
}

# First bytes → what the file is, in words.
_SIGNATURES = (
    (b"PK\x03\x04", "une archive ZIP (classeur ou document bureautique)"),
    (b"PK\x05\x06", "une archive ZIP vide"),
    (b"%PDF-", "un document PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "un fichier Office 97-2003 (.xls, .doc)"),
    (b"\x89PNG\r\n\x1a\n", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"MZ", "un programme Windows"),
    (b"\x7fELF", "un programme"),
    (b"\x1f\x8b", "une archive compressée (gzip)"),
    (b"Rar!", "une archive RAR"),
    (b"7z\xbc\xaf\x27\x1c", "une archive 7-Zip"),
    (b"\xff\xfe", "un texte encodé en UTF-16"),
    (b"\xfe\xff", "un texte encodé en UTF-16"),
)
_XML_START = re.compile(rb"^(\xef\xbb\xbf)?\s*<(\?xml|!DOCTYPE|!ENTITY|!--|[A-Za-z_])")


class UploadRefused(Exception):
    """The file is refused; `problems` are French sentences shown to the user."""

    def __init__(self, *problems: str):
        super().__init__(" ".join(problems))
        self.problems = list(problems)


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} Mo"
    if size >= 1024:
        return f"{size / 1024:.0f} Ko"
    return f"{size} octets"


def extension_of(name: str | None) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


def head_of(stream: BinaryIO, size: int = HEAD) -> bytes:
    stream.seek(0)
    head = stream.read(size)
    stream.seek(0)
    return head


def describe(head: bytes) -> str:
    """What a file is, from its first bytes: « une archive ZIP (…) », « un document XML »…"""
    for magic, words in _SIGNATURES:
        if head.startswith(magic):
            return words
    if _XML_START.match(head):
        return "un document XML"
    if b"\x00" in head:
        return "un fichier binaire"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "un texte JSON"
    return "un texte"


def mismatch(extension: str, head: bytes) -> str:
    return (
        f"Le contenu du fichier ne correspond pas à son extension .{extension} : "
        f"c'est {describe(head)}."
    )


# --- Checks by kind --------------------------------------------------------------------------


def check_size(upload, limit: int) -> None:
    """The declared size, then the bytes actually there (a placeholder or a lying size)."""
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UploadRefused(f"Le fichier dépasse la taille maximale ({size_label(limit)}).")


def check_pdf(stream: BinaryIO, extension: str = "pdf") -> None:
    """A PDF starts with %PDF- (readers tolerate it within the first 1,024 bytes)."""
    head = head_of(stream)
    if b"%PDF-" not in head[:1024]:
        raise UploadRefused(mismatch(extension, head))


def check_json_text(stream: BinaryIO, extension: str = "json") -> None:
    """JSON text: UTF-8 (BOM allowed), no NUL byte, an object or an array first. Not parsed
    here: a file that looks like JSON may still be invalid JSON."""
    head = head_of(stream)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise UploadRefused("Le fichier est vide.")
    if b"\x00" in head or stripped[:1] not in (b"{", b"["):
        raise UploadRefused(
            f"Le fichier n'est pas un JSON valide en UTF-8 : c'est {describe(head)} "
            f"(extension .{extension})."
        )


def check_extension(upload, extensions: tuple[str, ...]) -> str:
    extension = extension_of(upload.name)
    if extension not in extensions:
        shown = f".{extension}" if extension else "sans extension"
        accepted = " ou ".join(f".{e}" for e in extensions)
        raise UploadRefused(
            f"Format de fichier non pris en charge ({shown}) : un fichier {accepted} est attendu."
        )
    return extension


def check_json_upload(upload, *, extensions: tuple[str, ...] = ("json",)) -> None:
    """A JSON upload's extension and first bytes (not parsed)."""
    check_json_text(upload, check_extension(upload, extensions))


def load_json(upload, *, limit: int, extensions: tuple[str, ...] = ("json",)) -> Any:
    """An uploaded JSON document: extension, size (read at most `limit` + 1 bytes, whatever
    the declared size), content, then parsing. UploadRefused with the reason."""
    extension = check_extension(upload, extensions)
    check_size(upload, limit)
    check_json_text(upload, extension)
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(f"Le fichier dépasse la taille maximale ({size_label(limit)}).")
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise UploadRefused(
            f"Le fichier n'est pas un JSON valide en UTF-8 (octet {error.start} illisible)."
        ) from None
    except json.JSONDecodeError as error:
        raise UploadRefused(
            f"Le fichier n'est pas un JSON valide en UTF-8 : ligne {error.lineno}, "
            f"colonne {error.colno}."
        ) from None
    except RecursionError:
        raise UploadRefused(
            "Le fichier n'est pas un JSON valide en UTF-8 (imbrication trop profonde)."
        ) from None


def long_line(stream: BinaryIO, max_bytes: int, *, chunk_size: int = 1 << 16) -> int | None:
    """The number of the first line longer than `max_bytes` (≥ `chunk_size`: lines inside a
    chunk are not measured), None if none; reads as a stream, stops at that line."""
    stream.seek(0)
    run = newlines = 0
    try:
        while chunk := stream.read(chunk_size):
            first = chunk.find(b"\n")
            if first < 0:
                run += len(chunk)
                if run > max_bytes:
                    return newlines + 1
                continue
            if run + first > max_bytes:
                return newlines + 1
            newlines += chunk.count(b"\n")
            run = len(chunk) - chunk.rfind(b"\n") - 1
        return None
    finally:
        stream.seek(0)


def check_attachment(upload, *, limit: int) -> None:
    """A file attached as-is (agenda of a session): what a person downloading it would open
    must not be a ZIP bomb, carry a DTD, or be a text of megabyte lines. Its format and first
    bytes are the caller's."""
    check_size(upload, limit)
    extension = extension_of(upload.name)
    head = head_of(upload)
    if extension in OFFICE_MEMBERS and head.startswith(b"PK"):
        inspect_zip(upload, kind=extension, max_uncompressed=ZIP_MAX_UNCOMPRESSED)
    elif extension in ("csv", "txt"):
        check_line_lengths(upload)  # binary content: the caller's first-bytes check


def check_line_lengths(stream: BinaryIO, max_line_bytes: int = TEXT_MAX_LINE_BYTES) -> None:
    number = long_line(stream, max_line_bytes)
    if number is not None:
        raise UploadRefused(
            f"Ligne {number} : la ligne est trop longue (plus de {size_label(max_line_bytes)}) : "
            "ce n'est pas un fichier texte ordinaire."
        )


# --- ZIP archives ----------------------------------------------------------------------------


# UTF-32 and EBCDIC, as XML parsers detect them from the first bytes: never in an Office file.
_UNUSUAL_XML_STARTS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    b"<\x00\x00\x00",
    b"\x00\x00\x00<",
    b"\x4c\x6f\xa7\x94",
)


def _prolog_encoding(raw: bytes) -> str:
    if raw.startswith(_UNUSUAL_XML_STARTS):
        return "unusual"
    if raw.startswith((codecs.BOM_UTF16_LE, b"<\x00")):
        return "utf-16-le"
    if raw.startswith((codecs.BOM_UTF16_BE, b"\x00<")):
        return "utf-16-be"
    return "utf-8"


_PROLOG_SKIP = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->)", re.S)
_DECLARED_ENCODING = re.compile(r"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")


def xml_prolog_problem(member) -> str | None:
    """What is wrong with an XML part's prolog (what precedes its root element): a DTD, an
    unusual encoding, or a prolog of abnormal length. Reads only the prolog."""
    raw = b""
    while True:
        chunk = member.read(4096)
        raw += chunk
        encoding = _prolog_encoding(raw)
        if encoding == "unusual":
            return "un encodage XML inhabituel (UTF-32 ou EBCDIC)"
        usable = raw if encoding == "utf-8" else raw[: len(raw) // 2 * 2]
        text = usable.decode(encoding, errors="replace").lstrip("\ufeff")
        declared = _DECLARED_ENCODING.match(text)
        if declared and declared.group(1).strip().lower() not in XML_ENCODINGS:
            return f"un encodage XML inhabituel ({declared.group(1)[:20]})"
        position = 0
        while match := _PROLOG_SKIP.match(text, position):
            if match.end() == position:
                break
            position = match.end()
        rest = text[position:]
        if rest.startswith("<!") and not "<!--".startswith(rest[:4]):
            return "une déclaration DTD (<!DOCTYPE>, entités XML)"
        if rest[:1] == "<" and (rest[1:2].isalpha() or rest[1:2] in ("_", ":")):
            return None  # the root element: no DTD can follow it
        if rest and rest[:1] != "<":
            return None  # not XML: an image, a binary part
        if not chunk:
            return None
        if len(raw) > XML_PROLOG_MAX:
            return "un prologue XML anormalement long"


def inspect_zip(
    stream: BinaryIO,
    *,
    kind: str,
    max_uncompressed: int = ZIP_MAX_UNCOMPRESSED,
    max_members: int = ZIP_MAX_MEMBERS,
    max_ratio: int = ZIP_MAX_RATIO,
) -> None:
    """Refuse an archive before any parser opens it: not a ZIP, not the format `kind` names
    (its required members), too many members, too big once inflated, inflating too many
    times (ZIP bomb), a DTD in an XML part (billion laughs, external entities)."""
    noun = FORMAT_NAMES.get(kind, f"fichier .{kind}")
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            if len(members) > max_members:
                raise UploadRefused(
                    f"Le {noun} contient {len(members)} éléments (au plus {max_members}) : "
                    "ce n'est pas un fichier ordinaire, il n'est pas ouvert."
                )
            names = {member.filename for member in members}
            missing = [name for name in OFFICE_MEMBERS.get(kind, ()) if name not in names]
            if missing:
                raise UploadRefused(
                    f"Le contenu du fichier ne correspond pas à son extension .{kind} : c'est "
                    f"une archive ZIP, mais pas un {noun} (il y manque « {missing[0]} »)."
                )
            inflated = sum(member.file_size for member in members)
            if inflated > max_uncompressed:
                raise UploadRefused(
                    f"Le {noun} est trop volumineux une fois décompressé "
                    f"({size_label(inflated)}, au plus {size_label(max_uncompressed)}) : "
                    "il peut s'agir d'une « bombe de décompression », il n'est pas ouvert."
                )
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > ZIP_RATIO_GRACE and ratio > max_ratio:
                    raise UploadRefused(
                        f"Le {noun} est anormalement compressé : « {member.filename[:80]} » se "
                        f"décompresse {ratio:.0f} fois (au plus {max_ratio}). Il peut s'agir "
                        "d'une « bombe de décompression », il n'est pas ouvert."
                    )
            for member in members:
                if member.is_dir() or member.file_size == 0:
                    continue
                with archive.open(member) as part:
                    problem = xml_prolog_problem(part)
                if problem:
                    raise UploadRefused(
                        f"Le {noun} contient {problem} dans « {member.filename[:80]} » : les "
                        "logiciels de bureautique n'écrivent rien de tel, et cela peut servir à "
                        "une attaque (« billion laughs », entités externes). Le fichier n'est "
                        "pas ouvert."
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise UploadRefused(
            f"Le {noun} est endommagé ou chiffré : il ne peut pas être ouvert."
        ) from None
    except RuntimeError:  # an encrypted member (zipfile asks for a password)
        raise UploadRefused(f"Le {noun} est protégé par un mot de passe.") from None
    finally:
        stream.seek(0)


# --- Oversize uploads ------------------------------------------------------------------------


def _setting(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _orientation_limit() -> int:
    from conventions.services_orientations import MAX_ATTACHMENT_BYTES

    return MAX_ATTACHMENT_BYTES


def upload_limit(request) -> int:
    """The size limit of the file a request to this page may carry (the page's form checks
    its own, this one stops the storing of the body). The largest limit of the page when it
    depends on a field (RPLS files are bigger than others)."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else None
    limits = {
        "territory_upload": lambda: settings.CIL_TERRITORY_MAX_BYTES,
        "import_upload": lambda: settings.CIL_IMPORT_MAX_BYTES,
        "observatoire_import_upload": lambda: max(
            settings.CIL_IMPORT_MAX_BYTES,
            _setting("CIL_OBSERVATOIRE_RPLS_MAX_BYTES", 500 * 1024 * 1024),
        ),
        "observatoire_map_upload": lambda: _setting("CIL_MAP_MAX_BYTES", 10 * 1024 * 1024),
        "document_verification": lambda: settings.CIL_VERIFICATION_MAX_BYTES,
        "attachment_add": lambda: _setting("CIL_SESSION_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024),
        "orientation_deliberate": _orientation_limit,
    }
    if name in limits:
        return limits[name]()
    return settings.CIL_UPLOAD_MAX_BYTES


class OversizeUpload(UploadedFile):
    """What the form receives for a file stopped at its limit: no content, its size as far
    as it was received (over the limit), so the form's own size check refuses it."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        from io import BytesIO

        super().__init__(BytesIO(), name, content_type, size, charset, content_type_extra)

    def read(self, *args, **kwargs) -> bytes:  # nothing was kept: nothing to misread
        return b""


class CappedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS. A request whose body is already over the page's limit
    stores none of its files; a file that grows past it stops being stored there, the part
    already stored (memory or temporary file) is released, and the rest is read and dropped
    (so that the page can still answer with its message)."""

    # The form's other fields and the multipart framing.
    OVERHEAD = 1024 * 1024

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = upload_limit(self.request)
        self.body_length = content_length or 0
        self.body_too_big = self.body_length > self.limit + self.OVERHEAD

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.oversize = getattr(self, "body_too_big", False)
        if self.oversize:
            raise StopFutureHandlers  # the other handlers open no file for it

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.oversize:
            return None
        if self.received > self.limit:
            self.oversize = True
            self._release_others()
            return None
        return raw_data

    def _release_others(self) -> None:
        for handler in self.request.upload_handlers:
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()  # a TemporaryUploadedFile deletes its file

    def file_complete(self, file_size):
        if not self.oversize:
            return None
        return OversizeUpload(
            self.file_name,
            self.content_type,
            max(self.received, self.body_length),
            self.charset,
            self.content_type_extra,
        )
