"""Product images, served by the portal itself from what the crawler stored.

Pages never point at a shop's image URL: the crawler fetched, checked and resized each
image (crawler/images.py) into ``DATA_DIR/images`` under a key that is the hash of its
content (:mod:`indexer.images`), and this blueprint serves those files at
``/images/<key>-<size>.webp``. A key names one content forever, so the answers are
cached for a year as ``immutable``. A key the store does not hold (an image removed, a
run file from another machine) answers 404 with a neutral picture, so the page shows a
placeholder instead of a broken image; that answer is not cached.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file, url_for

from indexer.images import IMAGE_SIZES, image_file, images_dir, is_image_key
from portal.backend import get_config

bp = Blueprint("images", __name__)

IMMUTABLE = "public, max-age=31536000, immutable"

# Same tones as .product-image-none in style.css: a card without its picture looks calm.
PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 3" width="640" height="480">'
    '<rect width="4" height="3" fill="#f3efe8"/><path d="M4 0v3H0z" fill="#ece5da"/></svg>'
)


def image_urls(key: object) -> dict[str, str] | None:
    """``{"s": "/images/<key>-s.webp", "m": ...}`` for a stored image's key; None otherwise."""
    if not is_image_key(key):
        return None
    return {size: url_for("images.image", name=f"{key}-{size}") for size in IMAGE_SIZES}


@bp.get("/images/<name>.webp")
def image(name: str):
    key, _, size = name.rpartition("-")
    if not is_image_key(key) or size not in IMAGE_SIZES:
        abort(404)
    path = image_file(images_dir(get_config().data_dir), key, size)
    if not path.is_file():
        return Response(
            PLACEHOLDER_SVG,
            status=404,
            mimetype="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )
    response = send_file(path, mimetype="image/webp", conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = IMMUTABLE
    return response
