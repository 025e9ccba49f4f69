"""Every change to data goes through a service function; services commit once per action."""


class ServiceError(Exception):
    """Bad input or a refused action, with a message for people (and the source line where it applies)."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None, status: int = 400):
        self.message = message
        self.line = line
        self.field = field
        self.status = status  # the HTTP status a view should answer with
        super().__init__(f"line {line}: {message}" if line else message)


def rendered(text: str | None, field: str) -> str:
    """Sanitised HTML for user text, rendered once at write time; a ServiceError (400) on `field` if it cannot be."""
    from flask_babel import gettext as _

    from ..markup import RenderError, render_markdown

    try:
        return str(render_markdown(text))
    except RenderError:
        raise ServiceError(
            _(
                "This text nests quotes or lists too deeply to be shown. Make it flatter and send it "
                "again; your text is kept below."
            ),
            field=field,
        ) from None
