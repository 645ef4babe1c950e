"""Which kinds of document the platform produces, and how each is built.

A task takes ids only, so it cannot receive a template and a context: it finds the
document's kind here and calls the kind's builder, which re-reads its subject from the
database inside the conference scope (the task has opened it) and returns
`(template_name, context)`.

To add a kind:
1. add it to `DocumentKind` (conventions/models/documents.py) and make the migration;
2. in your module, decorate the builder:

       from conventions.pdf.registry import register

       @register("cia", view_permission="cia.view", seal_reason="…")
       def build_cia(document: GeneratedDocument) -> tuple[str, dict]:
           version = CiaVersion.objects.get(public_id=document.subject_id)
           return "conventions/pdf/cia.html", {"document_title": document.title, …}

3. add your module's dotted path to `BUILDER_MODULES` below (one line), so that the web
   process and the worker both load it on first use.
Then request documents with `conventions.pdf.services.document_request(kind="cia", …)`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from cil.permissions import roles_granting
from conventions.models import DocumentKind

# Modules holding `@register` builders; each kind's module adds its line.
BUILDER_MODULES = [
    "conventions.pdf.bilan",
    "conventions.signing",
    "conventions.pdf.orientations",
    "cil.governance.pdf",
]

Builder = Callable[..., tuple[str, dict]]


class UnknownDocumentKind(LookupError):
    pass


@dataclass(frozen=True)
class DocumentType:
    kind: str
    build: Builder
    # Permission a member needs, on top of "documents.view", to see and download a
    # document of this kind (stored on each document: GeneratedDocument.view_permission).
    view_permission: str = "documents.view"
    # The /Reason of the PAdES signature; None: the seal's default.
    seal_reason: str | None = None


_registry: dict[str, DocumentType] = {}
_loaded = False


def register(kind: str, *, view_permission: str = "documents.view", seal_reason=None):
    """Decorator: `build(document) -> (template_name, context)` is the builder of `kind`."""
    if kind not in DocumentKind.values:
        raise UnknownDocumentKind(f"Type de document absent de DocumentKind : {kind!r}")
    roles_granting(view_permission)  # an unknown permission fails at import

    def decorator(build: Builder) -> Builder:
        if kind in _registry and _registry[kind].build is not build:
            raise ValueError(f"Type de document déjà enregistré : {kind!r}")
        _registry[kind] = DocumentType(
            kind=kind, build=build, view_permission=view_permission, seal_reason=seal_reason
        )
        return build

    return decorator


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in BUILDER_MODULES:
            import_module(module)
        _loaded = True


def get(kind: str) -> DocumentType:
    _load()
    try:
        return _registry[kind]
    except KeyError:
        raise UnknownDocumentKind(f"Aucun générateur pour le type de document {kind!r}") from None


def registered() -> dict[str, DocumentType]:
    _load()
    return dict(_registry)
