"""The documents pipeline: HTML → PDF (rendering), seal (sealing), public verification.

Documents are produced by `conventions.pdf.services.document_request`; each kind of
document registers its builder in `conventions.pdf.registry`.
"""

import logging

# WeasyPrint logs every layout step at INFO (some while it is imported): noise in a
# worker's log. Set here, before any submodule imports it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
# fontTools logs each WOFF2 font it decodes (Marianne) at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
