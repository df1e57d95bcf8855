"""Photos in S3-compatible object storage, against moto's S3 server (a real HTTP endpoint on 127.0.0.1)."""
from __future__ import annotations

import io
import socket
import threading
import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.extensions import db
from core.media import delete_file_on_commit
from core.storage import CACHE_CONTROL, StorageUnavailable, get_storage
from core.storage_s3 import S3PhotoStorage
from shop.models import Product, ProductPhoto
from tests import s3_server
from tests.helpers import login_as

CDN = "https://anh.cho-dua-kep.example/p"
FORM = {"name": "Dứa Queen Kép", "description": "Dứa ngọt.", "category": "fresh", "unit": "kg",
        "price_vnd": "25000", "stock": "120", "min_order_qty": "1", "season_start": "", "season_end": ""}


@pytest.fixture
def app_config(s3_endpoint, s3_bucket, request):
    extra = getattr(request, "param", {})
    return s3_server.app_config(s3_endpoint, s3_bucket, **extra)


def storage_for(endpoint: str, bucket: str, **options) -> S3PhotoStorage:
    return S3PhotoStorage(bucket, endpoint_url=endpoint, region=s3_server.REGION,
                          access_key_id=s3_server.ACCESS_KEY_ID, secret_access_key=s3_server.SECRET_ACCESS_KEY,
                          **options)


def jpeg(size=(800, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (230, 190, 40)).save(buf, "JPEG")
    return buf.getvalue()


def photo_keys() -> list[str]:
    rows = db.session.execute(select(ProductPhoto.large_key, ProductPhoto.small_key)).all()
    return sorted(key for row in rows for key in row)


@pytest.fixture
def farmer_client(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    client.get("/?lang=en")
    return client


def create_product(client, *photos: bytes):
    return client.post("/farmer/products/new", content_type="multipart/form-data",
                       data={**FORM, "photos": [(io.BytesIO(data), f"{n}.jpg") for n, data in enumerate(photos)]})


# -- the storage itself --------------------------------------------------------------------------------------

def test_save_open_delete_url_round_trip(s3_endpoint, s3_bucket):
    storage = storage_for(s3_endpoint, s3_bucket)
    key = storage.save(b"RIFF....WEBP")
    assert storage.open(key) == b"RIFF....WEBP"
    assert storage.url_path(key) == key and storage.public_url(key) is None
    assert s3_server.object_keys(s3_endpoint, s3_bucket) == [key]
    head = s3_server.client(s3_endpoint).head_object(Bucket=s3_bucket, Key=key)
    assert head["ContentType"] == "image/webp" and head["CacheControl"] == CACHE_CONTROL

    storage.delete(key)
    assert s3_server.object_keys(s3_endpoint, s3_bucket) == []
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    storage.delete(key)  # deleting twice is harmless

    shard, name = key.split("/")
    assert shard == name[:2] and name.endswith(".webp") and len(name) == 32 + len(".webp")


def test_a_public_base_url_links_straight_to_the_bucket(s3_endpoint, s3_bucket):
    storage = storage_for(s3_endpoint, s3_bucket, public_base_url=CDN + "/")
    key = storage.save(b"x")
    assert storage.public_url(key) == f"{CDN}/{key}"


@pytest.mark.parametrize("key", ["../secret.webp", "ab/../../x.webp", "", "ab/cd.webp", "ab/" + "a" * 32 + ".webp\n"])
def test_keys_it_would_not_make_are_refused(s3_endpoint, s3_bucket, key):
    storage = storage_for(s3_endpoint, s3_bucket)
    for call in (storage.open, storage.delete, storage.url_path, storage.public_url):
        with pytest.raises(ValueError):
            call(key)
    with pytest.raises(ValueError):
        storage.save(b"x", ext="../webp")


def test_short_timeouts_and_few_retries_by_default(s3_endpoint, s3_bucket):
    config = storage_for(s3_endpoint, s3_bucket).client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 10)
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers (a store that hangs)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_store_that_does_not_answer_fails_fast(silent_server):
    storage = storage_for(silent_server, "kep", read_timeout=0.3, max_attempts=1)
    started = time.monotonic()
    for call in (lambda: storage.open("ab/" + "a" * 32 + ".webp"), lambda: storage.save(b"x")):
        with pytest.raises(StorageUnavailable):
            call()
    assert time.monotonic() - started < 5


def test_a_key_s3_will_not_show_without_list_rights_is_a_missing_photo():
    """S3 answers 403 AccessDenied, not 404, for a missing key when the credentials cannot list the bucket
    (its documented error body below); that is a photo that is gone, not an outage."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Denying(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                    b"<Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>")
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Denying)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        storage = storage_for(f"http://127.0.0.1:{server.server_address[1]}", "kep", max_attempts=1)
        with pytest.raises(FileNotFoundError):
            storage.open("ab/" + "a" * 32 + ".webp")
    finally:
        server.shutdown()
        server.server_close()


# -- through the app -----------------------------------------------------------------------------------------

def test_the_app_stores_in_the_bucket_when_s3_bucket_is_set(app, s3_bucket):
    storage = get_storage(app)
    assert isinstance(storage, S3PhotoStorage) and storage.bucket == s3_bucket


def test_a_product_photo_uploaded_by_the_farmer_lands_in_the_bucket_and_is_served(
        app, farmer_client, s3_endpoint, s3_bucket):
    response = create_product(farmer_client, jpeg(), jpeg((600, 800)))
    assert response.status_code == 302
    keys = photo_keys()
    assert len(keys) == 4 and s3_server.object_keys(s3_endpoint, s3_bucket) == keys

    product = db.session.scalars(select(Product)).one()
    large = product.photos[0].large_key
    served = farmer_client.get(f"/media/{large}")
    assert served.status_code == 200 and served.data[8:12] == b"WEBP"
    assert served.data == s3_server.client(s3_endpoint).get_object(Bucket=s3_bucket, Key=large)["Body"].read()
    assert served.headers["Content-Type"] == "image/webp" and served.headers["Cache-Control"] == CACHE_CONTROL
    listing = farmer_client.get("/farmer/products").get_data(as_text=True)
    assert f'src="/media/{product.photos[0].small_key}"' in listing


def test_removing_a_photo_deletes_its_objects_once_committed(app, farmer_client, s3_endpoint, s3_bucket):
    create_product(farmer_client, jpeg(), jpeg())
    product = db.session.scalars(select(Product)).one()
    first, second = product.photos
    first_id, gone = first.id, first.large_key
    kept = sorted([second.large_key, second.small_key])

    delete_file_on_commit(gone)  # a change that rolls back keeps the file
    db.session.rollback()
    assert len(s3_server.object_keys(s3_endpoint, s3_bucket)) == 4

    response = farmer_client.post(f"/farmer/products/{product.id}/photos/{first_id}/delete")
    assert response.status_code == 302
    assert s3_server.object_keys(s3_endpoint, s3_bucket) == kept == photo_keys()
    assert farmer_client.get(f"/media/{gone}").status_code == 404


def test_a_missing_key_is_a_404(client):
    assert client.get("/media/ab/" + "0" * 32 + ".webp").status_code == 404
    assert client.get("/media/../../etc/passwd.webp").status_code == 404


@pytest.mark.parametrize("app_config", [{"S3_PUBLIC_BASE_URL": CDN}], indirect=True)
def test_with_a_public_base_url_pages_link_photos_to_the_cdn(app, farmer_client):
    create_product(farmer_client, jpeg())
    product = db.session.scalars(select(Product)).one()
    small, large = product.photos[0].small_key, product.photos[0].large_key
    page = farmer_client.get(f"/products/{product.slug}")
    html = page.get_data(as_text=True)
    assert f"{CDN}/{small}" in html and f'content="{CDN}/{large}"' in html and "/media/" not in html
    assert "img-src 'self' data: https://anh.cho-dua-kep.example;" in page.headers["Content-Security-Policy"]
    assert farmer_client.get(f"/media/{large}").status_code == 200  # old links keep working


@pytest.mark.parametrize("app_config", [{"S3_ENDPOINT_URL": "http://127.0.0.1:9"}], indirect=True)
def test_an_unreachable_store_changes_nothing_and_says_so(app, farmer_client):
    response = create_product(farmer_client, jpeg())
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Photos cannot be saved or shown right now. Nothing was changed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0
    assert farmer_client.get("/media/ab/" + "0" * 32 + ".webp").status_code == 503
