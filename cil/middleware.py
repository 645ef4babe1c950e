"""Small middlewares that don't belong to the tenancy machinery."""


def eager_csp_nonce(get_response):
    """Evaluate django-csp's lazy nonce before templates run.

    django-csp 4 exposes `request.csp_nonce` as a lazy object whose truth value is False
    until evaluated; templates that test `{% if nonce %}` then omit it and the browser
    blocks the script (ecosystem-notes §4.4).
    """

    def middleware(request):
        if hasattr(request, "csp_nonce"):
            str(request.csp_nonce)
        return get_response(request)

    return middleware
