"""The public verification page: anyone may check that a PDF was issued by the platform
and has not been modified since (conventions/pdf/verification.py)."""

from django.conf import settings
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from conventions.forms_documents import VerificationForm, verification_max_label


@require_http_methods(["GET", "POST"])
def document_verification(request):
    result = None
    if request.method == "POST":
        form = VerificationForm(request.POST, request.FILES)
        if form.is_valid():
            from conventions.pdf.verification import verify_pdf  # pyHanko: loaded on use

            result = verify_pdf(form.pdf_bytes)
    else:
        form = VerificationForm()
    return TemplateResponse(
        request,
        "conventions/verification.html",
        {
            "form": form,
            "result": result,
            "max_size": verification_max_label(),
            "seal_name": settings.CIL_SEAL_NAME,
        },
    )
