"""Product photos: served from storage, and stored in step with the database transaction.

``GET /media/<key>`` serves a stored WebP with a one-year immutable cache (keys are random and never reused).
Pages link photos with ``photo_url(key)``: the /media route, or the bucket's or CDN's own address when the store
has one (``S3_PUBLIC_BASE_URL``). A store that cannot be reached answers 503 with a clear message, and the
request changes nothing.

Files and rows must not drift apart: a file saved for a row that is then rolled back would be an orphan, and a file
deleted for a row whose deletion is then rolled back would leave a broken photo. So services store and delete files
through ``store_file`` and ``delete_file_on_commit``: new files are removed again if the transaction does not
commit, and files of deleted rows are removed only once it has committed.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core import transactions
from core.errors import RETRY_AFTER_SECONDS, render_error
from core.extensions import db
from core.requestlog import loggable_path
from core.storage import CACHE_CONTROL, PhotoStorage, StorageUnavailable, get_storage
from core.urls import public_url

bp = Blueprint("media", __name__, url_prefix="/media")

__all__ = ["CACHE_CONTROL", "bp", "delete_file_on_commit", "photo_url", "store_file"]

_NEW = "media.new_files"  # keys in Session.info: [(storage, key), ...]
_DOOMED = "media.doomed_files"


@bp.route("/<path:key>")
def photo(key: str):
    if not key.endswith(".webp"):
        abort(404)
    try:
        data = get_storage(current_app).open(key)
    except StorageUnavailable:
        raise  # 503, below
    except (ValueError, OSError):  # not a key we make, or no such file
        abort(404)
    response = Response(data, mimetype="image/webp")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@bp.app_template_global()
def photo_url(key: str, external: bool = False) -> str:
    """Where a page links the photo ``key``: straight to the store when it has a public address, else /media
    (``external``: on the site's canonical address, PUBLIC_BASE_URL)."""
    try:
        direct = get_storage(current_app).public_url(key)
    except ValueError:  # not a key we make: the /media address, which answers 404, rather than a broken page
        direct = None
    if direct:
        return direct
    return public_url("media.photo", key=key) if external else url_for("media.photo", key=key)


@bp.app_errorhandler(StorageUnavailable)
def storage_unavailable(error: StorageUnavailable):
    """The photo store is down or too slow: nothing of the request is kept (new files are removed again)."""
    current_app.logger.error("Photo storage unavailable on %s %s: %s", request.method, loggable_path(), error)
    transactions.discard_session_changes()  # the error went past the view's unit of work, unfinished
    body, code = render_error(503, _l("Photos cannot be saved or shown right now. Nothing was changed; please "
                                      "try again in a few minutes."))
    response = make_response(body, code)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def store_file(data: bytes, ext: str = "webp") -> str:
    """Save ``data``; the file is deleted again unless the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    storage = get_storage(current_app)
    key = storage.save(data, ext)
    session.info.setdefault(_NEW, []).append((storage, key))
    return key


def delete_file_on_commit(key: str) -> None:
    """Delete the file once the current transaction commits; keep it if the transaction rolls back."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_DOOMED, []).append((get_storage(current_app), key))


def _delete_all(files: list[tuple[PhotoStorage, str]]) -> None:
    for storage, key in files:
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover - a disk problem must not undo a committed change
            current_app.logger.exception("Could not delete photo file %s", key)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW, None)  # committed: the new files are in use
    _delete_all(session.info.pop(_DOOMED, []))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint; wait for the outer transaction
        return
    # Still here after the outermost transaction ended: it rolled back or was closed without a commit.
    _delete_all(session.info.pop(_NEW, []))
    session.info.pop(_DOOMED, None)
