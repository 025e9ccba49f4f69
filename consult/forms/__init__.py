"""Flask-WTF forms, one module per area. Labels and messages go through Babel."""

from .auth import SignInForm
from .documents import PublishForm

__all__ = ["PublishForm", "SignInForm"]
