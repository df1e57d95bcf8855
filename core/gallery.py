"""Photos of a listing (a product, a visit): uploads checked and shrunk, stored, ordered and removed.

The owner's rows (``ProductPhoto``, ``TourPhoto``) share one shape — ``position``, ``large_key``,
``small_key``, ``width``, ``height`` — on an owner whose ``photos`` list is ordered by position. A
``Gallery`` does the work for one kind of owner; the listing's service checks who may change it, locks its
row, writes the audit log, and gives the gallery its error class and the message for too many photos
(they name the listing: "A product can have…", "A visit can have…")."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.images import PhotoRejected, ProcessedPhoto, process_photo
from core.media import delete_file_on_commit, store_file


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the phone gave it (for messages only) and its bytes."""
    filename: str
    stream: IO[bytes]


def short_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if len(name) <= 60 else name[:57] + "…"


@dataclass(frozen=True)
class Gallery:
    photo_class: type
    error: type                                   # a DomainError subclass, raised with field="photos"
    too_many: Callable[[int], str]                # the message, given how many photos the listing has
    max_photos: int
    not_found: Callable[[], Exception]            # the error for a photo id that is not the listing's

    def check_count(self, already: int, adding: int) -> None:
        if already + adding > self.max_photos:
            raise self.error(self.too_many(already), "photos")

    def process(self, uploads: Sequence[Upload], already: int) -> list[ProcessedPhoto]:
        """Decode and re-encode every upload before anything is stored; the first refused one refuses them all."""
        self.check_count(already, len(uploads))
        processed = []
        for upload in uploads:
            try:
                processed.append(process_photo(upload.stream))
            except PhotoRejected as error:
                raise self.error(_l("“%(file)s”: %(reason)s Nothing was saved; please choose your photos again.",
                                    file=short_name(upload.filename), reason=error.message), "photos") from error
        return processed

    def store(self, owner, processed: list[ProcessedPhoto]) -> list:
        """Store the processed photos after the owner's existing ones; the new rows (flushed: they have ids)."""
        start = len(owner.photos)
        added = [self.photo_class(position=start + n, large_key=store_file(p.large), small_key=store_file(p.small),
                                  width=p.width, height=p.height) for n, p in enumerate(processed)]
        owner.photos.extend(added)
        db.session.flush()
        return added

    def add(self, owner, uploads: Sequence[Upload], lock_owner: Callable[[], None]) -> list:
        """Add photos after the existing ones: all of them or, if one is refused, none. Two uploads at the same
        time must not make more than the most: the owner's row is locked (``lock_owner``), then counted again."""
        if not uploads:
            raise self.error(_l("Choose at least one photo."), "photos")
        processed = self.process(uploads, len(owner.photos))
        lock_owner()
        db.session.refresh(owner, ["photos"])
        self.check_count(len(owner.photos), len(processed))
        return self.store(owner, processed)

    def find(self, owner, photo_id: int):
        for photo in owner.photos:
            if photo.id == photo_id:
                return photo
        raise self.not_found()

    def remove(self, owner, photo_id: int) -> None:
        """Remove one photo (its row, and its files once the transaction commits); the others close up."""
        photo = self.find(owner, photo_id)
        keys = (photo.large_key, photo.small_key)
        owner.photos.remove(photo)  # delete-orphan: the row goes
        for position, other in enumerate(owner.photos):
            other.position = position
        db.session.flush()
        for key in keys:
            delete_file_on_commit(key)

    def move(self, owner, photo_id: int, to: str) -> bool:
        """Move a photo one place up (``to="up"``) or to the front (``"first"``, the one shown in lists);
        False when it already was first."""
        photos = sorted(owner.photos, key=lambda p: (p.position, p.id))
        photo = self.find(owner, photo_id)
        index = photos.index(photo)
        if to not in ("up", "first"):
            raise self.error(_l("Choose where to move the photo."))
        if index == 0:
            return False
        photos.insert(0 if to == "first" else index - 1, photos.pop(index))
        for position, other in enumerate(photos):
            other.position = position
        db.session.flush()
        return True
