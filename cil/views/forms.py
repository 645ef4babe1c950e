from django.core.exceptions import ValidationError

from cil.concurrency import EditConflict


def apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it."""
    if isinstance(error, EditConflict):
        # The input stays; the new fingerprint makes the next submission a deliberate overwrite.
        error.update_form(form)
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
