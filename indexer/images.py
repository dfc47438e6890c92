"""Where product images live: the layout the crawler writes and the portal serves.

A product record names its image twice: ``image``, the URL the shop declared (kept for the
record and the API), and ``image_key``, the stored copy the portal shows. The key is the
SHA-256 of the image as downloaded, so two products sharing a picture share its files and
no shop can write over another shop's image (a different picture has a different key).
Each key is stored once per size, as WebP::

    DATA_DIR/images/<key[:2]>/<key>-<size>.webp

The sizes follow the pages (portal/static/style.css): a product card's image is 6.5rem
square on phones and about 15-20rem wide (4:3) on wide screens, so ``s`` covers the phone
card at 2-3× density and ``m`` the wide card at 2×.
"""

from __future__ import annotations

import re
from pathlib import Path

# size name -> the box (width, height) the image is fitted in, never enlarged
IMAGE_SIZES: dict[str, tuple[int, int]] = {"s": (320, 320), "m": (640, 640)}
KEY_PATTERN = r"[0-9a-f]{32}"
_KEY = re.compile(rf"^{KEY_PATTERN}$")


def images_dir(data_dir: Path) -> Path:
    return data_dir / "images"


def is_image_key(key: object) -> bool:
    return isinstance(key, str) and bool(_KEY.match(key))


def image_file(root: Path, key: str, size: str) -> Path:
    """The stored file of ``key`` at ``size``; raises ValueError on a malformed key or size."""
    if not is_image_key(key) or size not in IMAGE_SIZES:
        raise ValueError(f"not an image key and size: {key!r}, {size!r}")
    return root / key[:2] / f"{key}-{size}.webp"


def is_stored(root: Path, key: str) -> bool:
    """Every size of ``key`` is on disk."""
    return is_image_key(key) and all(image_file(root, key, size).is_file() for size in IMAGE_SIZES)


def source_maps_dir(root: Path) -> Path:
    """Where each source's map of image URL -> ``[key or None, fetched at]`` lives: the
    crawler's memory for re-crawls, which the collection of unused images also edits."""
    return root / "sources"


def source_map_file(root: Path, source_id: str) -> Path:
    return source_maps_dir(root) / f"{source_id}.json"
