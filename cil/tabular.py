"""Reading a tabular file a person uploads — CSV or XLSX (first sheet) — into its header and its
lines, each with its line number as a spreadsheet shows it (header = line 1). Shared by the
imports of every contract (`attributions` v1, `demandes` v1, RPLS, QPV list): each gives its
`Layout` (how its header is matched, and what its file and lines are called in messages).

CSV as French users produce it reads as-is: separator `;` or `,` (detected on the header line),
UTF-8 with or without BOM, or Windows-1252 (UTF-8 is tried strictly first; ISO-8859-1 files
read the same, Windows-1252 being a superset of its printable characters). Values stay as read
(text, or the cell's number/date for XLSX): each contract types them.

Memory stays bounded whatever the file's size: the file is read twice as a stream (a first
pass hashes it and checks the encoding, the second yields the lines), never held whole.
Hostile files are refused before anything is stored: a CSV line of megabytes stops the first
pass at that line; an XLSX archive is inspected (`cil.uploads.inspect_zip`: ZIP bomb, DTD)
before openpyxl opens it. No Django settings here: limits come from the callers.
"""

import codecs
import csv
import hashlib
import io
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from cil import uploads

EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx"}
# A line of the contract is a few hundred characters; anything much longer is not one.
MAX_LINE_CHARS = 10_000
# An XLSX file is a ZIP archive: refuse one that would inflate beyond this (ZIP bomb).
XLSX_MAX_UNCOMPRESSED = 500 * 1024 * 1024
CHUNK = 1 << 16
# A physical line this long has more than MAX_LINE_CHARS characters whatever its encoding (4
# bytes per character at most): the first pass refuses it (measured across chunks only, the
# second pass measures the others).
LONG_LINE_BYTES = 4 * MAX_LINE_CHARS + 2
WHITESPACE = b" \t\r\n\x0b\x0c\xef\xbb\xbf"  # the UTF-8 BOM too: a BOM alone is an empty file

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls)


class FileRefused(Exception):
    """The file is not a readable file of its contract. `problems` are French sentences shown
    to the user; `line` is the line where the reading stopped (None: the file as a whole)."""

    def __init__(self, *problems: str, line: int | None = None):
        super().__init__(" ".join(problems))
        self.problems = list(problems)
        self.line = line


HeaderMatcher = Callable[[list[str]], tuple[dict[int, str], list[str]]]


@dataclass(frozen=True)
class Layout:
    """What a contract tells the reader. `match_headers` maps header positions to column
    names and returns the problems of the header (French sentences; any problem refuses the
    file). A non-blank header it leaves out of the positions is a column the contract ignores:
    its cells are dropped silently. A cell under a blank header, or beyond the header, is a
    problem of its line (nothing is silently dropped that no header names)."""

    match_headers: HeaderMatcher
    file_noun: str  # "un fichier d'attributions"
    line_noun: str  # "une ligne d'attribution"


@dataclass(frozen=True)
class Line:
    number: int
    raw: dict[str, Any]  # the cells under a known column, by column name
    problems: list[tuple[str, Any, str]]  # cells outside any column: (column, value, message)


@dataclass(frozen=True)
class _Scan:
    sha256: str
    size: int
    head: bytes
    utf8: bool
    not_utf8_line: int | None  # the (physical) line of the first byte that is not UTF-8
    newlines: int
    ends_with_newline: bool
    has_content: bool
    long_line: int | None = None  # the first physical line over LONG_LINE_BYTES (text only)


def _scan(stream: BinaryIO, *, text: bool) -> _Scan:
    """One pass over the bytes: hash, size, first bytes, line count and, for a text file, a
    strict UTF-8 check."""
    stream.seek(0)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    size = newlines = run = 0
    head, utf8, not_utf8_line, has_content, last = b"", text, None, False, b""
    long_line = None
    while chunk := stream.read(CHUNK):
        if not head:
            head = chunk[:CHUNK]
        digest.update(chunk)
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                utf8 = False
                # Approximate when the faulty sequence began in the previous chunk: fine for
                # a message.
                not_utf8_line = newlines + chunk.count(b"\n", 0, max(error.start, 0)) + 1
        size += len(chunk)
        has_content = has_content or bool(chunk.strip(WHITESPACE))
        last = chunk[-1:]
        if text:
            # The current line's length so far: a line of megabytes stops the pass there,
            # unread beyond.
            first = chunk.find(b"\n")
            run += len(chunk) if first < 0 else first
            if run > LONG_LINE_BYTES:
                long_line = newlines + 1
                break
            if first >= 0:
                run = len(chunk) - chunk.rfind(b"\n") - 1
        newlines += chunk.count(b"\n")
    if utf8 and long_line is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8, not_utf8_line = False, newlines + 1
    stream.seek(0)
    return _Scan(
        sha256=digest.hexdigest(),
        size=size,
        head=head,
        utf8=utf8,
        not_utf8_line=not_utf8_line,
        newlines=newlines,
        ends_with_newline=last == b"\n",
        has_content=has_content,
        long_line=long_line,
    )


def kind_of(filename: str) -> str:
    """The kind of a file from its name, "csv" or "xlsx"; FileRefused for any other."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in EXTENSIONS:
        shown = suffix or "sans extension"
        raise FileRefused(
            f"Format de fichier non pris en charge ({shown}) : déposez un fichier CSV (.csv) "
            "ou un classeur Excel (.xlsx)."
        )
    return EXTENSIONS[suffix]


def _column_label(index: int) -> str:
    return f"{get_column_letter(index + 1)} (sans en-tête)"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class TabularFile:
    """An opened file: `headers`, `positions` (header index → column name), `line_count` (an
    estimate of its lines, header included, for progress bars) and `lines()`."""

    kind = ""

    def __init__(self, stream: BinaryIO, scan: _Scan, layout: Layout):
        self.layout = layout
        self.stream = stream
        self.sha256 = scan.sha256
        self.size = scan.size
        self.line_count = 0
        self.header_line = 0
        self.headers: list[str] = []
        self.positions: dict[int, str] = {}

    def _records(self) -> Iterator[tuple[int, list[Any]]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the reader holds (the caller owns the stream)."""

    def _read_header(self) -> None:
        for number, record in self._records():
            if all(_blank(cell) for cell in record):
                continue
            self.header_line = number
            self.headers = ["" if cell is None else str(cell).strip() for cell in record]
            break
        else:
            raise FileRefused("Le fichier est vide.")
        self.positions, problems = self.layout.match_headers(self.headers)
        if problems:
            raise FileRefused(*problems, line=self.header_line)

    def lines(self, accept: Callable[[int, list[Any]], bool] | None = None) -> Iterator[Line]:
        """The non-empty lines after the header, in order. Raises FileRefused when the reading
        cannot go on (a line too long, undecodable bytes). `accept(number, cells)`, when given,
        sees each line's cells first: a line it refuses is skipped unread (a file whose lines
        are mostly not for this conference is read at the speed of the test)."""
        positions = self.positions
        header_line = self.header_line
        width = len(self.headers)
        names = tuple(positions.get(index) for index in range(width))
        # Every cell of a CSV line is a str; when every header names a column and the line is
        # no longer than the header, no cell can be outside a column.
        all_named = self.kind == "csv" and None not in names
        # Every header is written, some name a column the contract ignores: same guarantee.
        all_headed = self.kind == "csv" and all(self.headers)
        kept = tuple(sorted(positions.items()))
        for number, record in self._records():
            if number <= header_line:
                continue
            if accept is not None and not accept(number, record):
                continue
            if all_named and len(record) <= width:
                # Blank (`_blank`) for a str: empty or only whitespace.
                raw = {
                    name: cell
                    for name, cell in zip(names, record, strict=False)
                    if cell and not cell.isspace()
                }
                if raw:
                    yield Line(number, raw, [])
                continue
            if all_headed and len(record) <= width:
                length = len(record)
                raw = {
                    name: record[index]
                    for index, name in kept
                    if index < length and record[index] and not record[index].isspace()
                }
                if raw:
                    yield Line(number, raw, [])
                continue
            raw: dict[str, Any] = {}
            problems: list[tuple[str, Any, str]] = []
            for index, cell in enumerate(record):
                # `_blank`, inlined for the common case: a CSV cell is a str.
                if cell is None or (
                    (not cell or cell.isspace()) if type(cell) is str else _blank(cell)
                ):
                    continue
                name = positions.get(index)
                if name is None:
                    if index < width and self.headers[index]:
                        continue  # a column the contract ignores
                    # Nothing is silently dropped: a value needs a column.
                    problems.append(
                        (
                            _column_label(index),
                            cell,
                            "Valeur dans une colonne sans en-tête : elle ne peut pas être importée.",
                        )
                    )
                else:
                    raw[name] = cell
            if raw or problems:
                yield Line(number, raw, problems)


class _LineTooLong(Exception):
    pass


# The csv module's messages (English), as a person reads them.
_CSV_PROBLEMS = {
    "field larger than field limit": "une valeur est beaucoup trop longue",
    "line contains NUL": "caractère nul : ce n'est pas un fichier texte",
    "new-line character seen in unquoted field": "saut de ligne inattendu dans une valeur",
    "unexpected end of data": "fin de fichier inattendue (un guillemet n'est pas refermé ?)",
}


def _csv_problem(error: csv.Error) -> str:
    message = str(error)
    return next(
        (french for english, french in _CSV_PROBLEMS.items() if message.startswith(english)),
        message,
    )


class _Raw(io.RawIOBase):
    """Any object with `read(n)` as a raw binary stream, for io.TextIOWrapper. Closing it
    leaves the underlying stream open."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class CsvFile(TabularFile):
    kind = "csv"

    def __init__(self, stream: BinaryIO, scan: _Scan, layout: Layout):
        super().__init__(stream, scan, layout)
        if scan.long_line is not None:
            raise self._too_long(scan.long_line)
        # The length of the record being read, across the physical lines a quoted value
        # spans (an unclosed quote would otherwise read the rest of the file as one value).
        self._record_chars = 0
        # utf-8-sig reads UTF-8 with or without BOM; Windows-1252 is what Excel writes in
        # « CSV (séparateur : point-virgule) » on a French Windows.
        self.encoding = "utf-8-sig" if scan.utf8 else "cp1252"
        if not scan.utf8 and scan.head.startswith(codecs.BOM_UTF8):
            # Windows-1252 lines added to a UTF-8 file: read either way, some text would be
            # stored garbled.
            raise FileRefused(
                f"Ligne {scan.not_utf8_line} : le fichier est enregistré en UTF-8 mais contient "
                "des caractères d'un autre encodage. Enregistrez-le à nouveau en « CSV UTF-8 ».",
                line=scan.not_utf8_line,
            )
        self.line_count = scan.newlines + (0 if scan.ends_with_newline else 1)
        self.delimiter = self._detect_delimiter()
        self._read_header()

    def _text(self) -> io.TextIOWrapper:
        self.stream.seek(0)
        # newline="": the csv module handles \r\n, \n, \r and newlines inside quotes.
        return io.TextIOWrapper(
            io.BufferedReader(_Raw(self.stream), CHUNK), encoding=self.encoding, newline=""
        )

    def _physical_lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        while line := text.readline(MAX_LINE_CHARS + 2):  # + \r\n
            if len(line) > MAX_LINE_CHARS and len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
                raise _LineTooLong
            self._record_chars += len(line)
            if self._record_chars > MAX_LINE_CHARS + 2:
                raise _LineTooLong
            yield line

    def _too_long(self, number: int) -> FileRefused:
        if number == 1:
            return FileRefused(
                f"La ligne d'en-tête dépasse {MAX_LINE_CHARS} caractères : ce n'est pas "
                f"{self.layout.file_noun}.",
                line=1,
            )
        return FileRefused(
            f"La ligne {number} dépasse {MAX_LINE_CHARS} caractères : ce n'est pas "
            f"{self.layout.line_noun}.",
            line=number,
        )

    def _detect_delimiter(self) -> str:
        """`;` or `,`: the one the header line holds more of (outside quotes)."""
        text = self._text()
        try:
            for line in self._physical_lines(text):
                self._record_chars = 0
                if line.strip():
                    unquoted = line.split('"')[::2]
                    semicolons = sum(part.count(";") for part in unquoted)
                    commas = sum(part.count(",") for part in unquoted)
                    return ";" if semicolons >= commas else ","
        except _LineTooLong:
            raise self._too_long(1) from None
        except UnicodeDecodeError:
            raise self._undecodable(1) from None
        finally:
            text.detach()
        return ";"

    def _undecodable(self, number: int) -> FileRefused:
        return FileRefused(
            f"Ligne {number} : caractères illisibles. Le fichier doit être encodé en UTF-8 ou en "
            "Windows-1252 (enregistrez-le en « CSV UTF-8 »).",
            line=number,
        )

    def _records(self) -> Iterator[tuple[int, list[Any]]]:
        text = self._text()
        reader = csv.reader(self._physical_lines(text), delimiter=self.delimiter)
        number = 0
        try:
            while True:
                number += 1
                self._record_chars = 0
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except _LineTooLong:
                    raise self._too_long(number) from None
                except UnicodeDecodeError:
                    raise self._undecodable(number) from None
                except csv.Error as error:
                    raise FileRefused(
                        f"Ligne {number} illisible en CSV ({_csv_problem(error)}).", line=number
                    ) from None
                yield number, record
        finally:
            text.detach()


class XlsxFile(TabularFile):
    kind = "xlsx"

    def __init__(self, stream: BinaryIO, scan: _Scan, layout: Layout):
        super().__init__(stream, scan, layout)
        self._check_archive()
        stream.seek(0)
        try:
            # openpyxl warns about spreadsheet features it drops (data validation, styles…);
            # only cell values are read here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception:
            raise FileRefused(
                "Le classeur XLSX ne peut pas être lu (fichier endommagé ou protégé par un mot "
                "de passe ?)."
            ) from None
        try:
            if not self.workbook.worksheets:
                raise FileRefused("Le classeur ne contient aucune feuille.")
            self.sheet = self.workbook.worksheets[0]  # the first sheet, whichever is active
            self.line_count = self.sheet.max_row or 0
            # The stored dimension may be wrong (some tools write A1:A1): read rows as they are.
            self.sheet.reset_dimensions()
            if not self.line_count:
                self.line_count = sum(1 for _ in self.sheet.iter_rows(values_only=True))
            self._read_header()
        except BaseException:
            self.close()
            raise

    def _check_archive(self) -> None:
        """Before openpyxl opens anything: a ZIP bomb, a DTD (billion laughs), an archive
        that is not a workbook."""
        try:
            uploads.inspect_zip(self.stream, kind="xlsx", max_uncompressed=XLSX_MAX_UNCOMPRESSED)
        except uploads.UploadRefused as refused:
            raise FileRefused(*refused.problems) from None

    def close(self) -> None:
        self.workbook.close()

    def _records(self) -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(self.sheet.iter_rows(values_only=True), start=1):
            length = sum(len(cell) for cell in row if isinstance(cell, str))
            if length > MAX_LINE_CHARS:
                raise FileRefused(
                    f"La ligne {number} dépasse {MAX_LINE_CHARS} caractères : ce n'est pas "
                    f"{self.layout.line_noun}.",
                    line=number,
                )
            yield number, list(row)


def _check_content(kind: str, scan: _Scan) -> None:
    """The content must match the extension."""
    head = scan.head
    is_zip = head.startswith(ZIP_MAGIC)
    if kind == "xlsx":
        if is_zip:
            return
        detail = (
            "c'est un classeur Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou CSV"
            if head.startswith(OLE2_MAGIC)
            else "ce n'est pas un classeur Excel au format XLSX"
        )
        raise FileRefused(
            f"Le contenu du fichier ne correspond pas à son extension .xlsx : {detail}."
        )
    if is_zip or head.startswith(OLE2_MAGIC):
        raise FileRefused(
            "Le contenu du fichier ne correspond pas à son extension .csv : c'est un classeur "
            "(Excel ou autre). Déposez-le avec l'extension .xlsx ou enregistrez-le au format CSV."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(
            "Le fichier est encodé en UTF-16 (« Texte Unicode ») : enregistrez-le en « CSV UTF-8 »"
            " ou en « CSV (séparateur : point-virgule) »."
        )
    if b"\x00" in head or head.startswith(b"%PDF"):
        raise FileRefused(
            "Le contenu du fichier ne correspond pas à son extension .csv : ce n'est pas un "
            f"fichier texte, c'est {uploads.describe(head)}."
        )


@contextmanager
def open_file(stream: BinaryIO, filename: str, layout: Layout) -> Iterator[TabularFile]:
    """Open a file of `layout`'s contract (a seekable binary stream; the caller closes it).
    Raises FileRefused when it is empty, not what its extension says, or has a header the
    layout refuses (unknown, duplicated or missing columns)."""
    kind = kind_of(filename)
    scan = _scan(stream, text=kind == "csv")
    if scan.size == 0 or (kind == "csv" and not scan.has_content):
        raise FileRefused("Le fichier est vide.")
    _check_content(kind, scan)
    opened = CsvFile(stream, scan, layout) if kind == "csv" else XlsxFile(stream, scan, layout)
    try:
        yield opened
    finally:
        opened.close()
