"""App servers can leave the search index to a single drainer."""

from consult import create_app
from consult.extensions import db
from consult.models import SearchOutbox


def test_drain_after_request_can_be_switched_off(app, tmp_path):
    from tests.factories import make_user, sign_in

    quiet = create_app(
        {
            "TESTING": True,
            "SEARCH_INDEX_DIR": str(tmp_path / "quiet-index"),
            "CONSULT_SEARCH_DRAIN_AFTER_REQUEST": False,
            "CONSULT_SIGNIN_DELAY_SECONDS": 0,
        }
    )
    from tests.conftest import IsolatedClient

    quiet.test_client_class = IsolatedClient
    db.session.add(SearchOutbox(kind="clause", object_id=1))
    db.session.commit()
    user = make_user("participant")
    client = quiet.test_client()
    sign_in(client, user.email)  # a successful POST, which would drain if the hook were installed
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 1
