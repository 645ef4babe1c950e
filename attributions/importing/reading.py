"""Reading an `attributions` v1 file: CSV or XLSX (first sheet) → its header and its lines,
each with its line number as a spreadsheet shows it (header = line 1).

The reading itself (encodings, separators, XLSX, bounded memory) is shared by every import of
the platform: `cil.tabular`. This module gives it the `attributions` v1 header
(`contract.match_headers`: an unknown column refuses the file) and keeps the names the
import uses.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from attributions import contract
from cil import tabular
from cil.tabular import (  # noqa: F401 - this module's public names, used by the import
    CHUNK,
    EXTENSIONS,
    MAX_LINE_CHARS,
    XLSX_MAX_UNCOMPRESSED,
    CsvFile,
    FileRefused,
    Line,
    XlsxFile,
    kind_of,
)
from cil.tabular import TabularFile as AttributionFile

LAYOUT = tabular.Layout(
    match_headers=contract.match_headers,
    file_noun="un fichier d'attributions",
    line_noun="une ligne d'attribution",
)


@contextmanager
def open_file(stream: BinaryIO, filename: str) -> Iterator[AttributionFile]:
    """Open an `attributions` file (a seekable binary stream; the caller closes it). Raises
    FileRefused when it is empty, not what its extension says, or has a wrong header
    (unknown, duplicated or missing columns)."""
    with tabular.open_file(stream, filename, LAYOUT) as opened:
        yield opened
