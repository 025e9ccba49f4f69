"""Every change to data goes through a service function; services commit once per action."""


class ServiceError(Exception):
    """Bad input or a refused action, with a message for people (and the source line where it applies)."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None, status: int = 400):
        self.message = message
        self.line = line
        self.field = field
        self.status = status  # the HTTP status a view should answer with
        super().__init__(f"line {line}: {message}" if line else message)
