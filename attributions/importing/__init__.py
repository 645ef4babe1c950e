"""Import of `attributions` v1 files (shared/formats.md): read (CSV or XLSX), plan (validate the
whole file, count what would change), commit (all or nothing).

- `reading`: bytes → header and lines, with their spreadsheet line numbers;
- `planning`: every line checked against the contract and the conference; counts;
- `committing`: the atomic write, one audit entry, the bilan invalidated;
- `jobs`: the `ImportJob` life cycle shared by the web pages, the tasks and the command.
"""
