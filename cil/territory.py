"""Loading a conference from a `territoire` v1 document (shared/formats.md)."""

from dataclasses import dataclass, field


class TerritoryError(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{path} : {message}" for path, message in errors))
        self.errors = errors


@dataclass
class LoadReport:
    conference: object = None
    counts: dict = field(default_factory=dict)

    def summary(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.counts.items())


def load_territory(data, *, actor=None, expected_slug=None) -> LoadReport:
    raise NotImplementedError  # implemented by the territory loader work item
