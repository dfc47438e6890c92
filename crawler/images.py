"""Product images fetched at crawl time, checked, resized and stored for the portal to serve.

Residents' browsers never load a shop's image URL: a crawled URL may be a tracking pixel
on another host, an http image on an https portal, or anything else a stranger chose. The
crawler fetches each product's image once, through Scrapy (the source's politeness, the
robots.txt of the image's host, the downloader middlewares and the address guard), keeps
it only when Pillow reads it as a real picture, and writes it in the sizes the pages use
(:mod:`indexer.images`); the record gains ``image_key`` beside the declared ``image``.

Limits, each refusing the image and never the product:

- the address guard on every hop (:func:`crawler.netguard.check_url`); private addresses
  only on the hosts of sources that allow them (a shop on a test network may not send
  the crawler to another private host), redirects followed here, at most ``REDIRECTS``;
- ``IMAGE_MAXSIZE`` bytes downloaded, one deadline for all hops (``IMAGE_DEADLINE``), no
  retries;
- JPEG, PNG, GIF or WebP only (SVG, which may carry script, is not read at all);
  ``MAX_PIXELS`` at most, checked from the header before decoding (decompression bombs);
  at least ``MIN_SIDE`` pixels a side (a 1×1 tracking pixel is not a product photo).

A host that cannot be reached (no DNS answer, connection refused, timed out) costs one
failure per run, not one per product: a host's first image goes alone, the others wait for
its answer and are refused as ``host_unreachable`` when it failed. Such failures are not
remembered beyond the run: the next run asks again.

Re-crawls reuse what they stored: each source keeps a map of image URL -> key
(``DATA_DIR/images/sources/<source>.json``); a URL fetched less than ``REUSE_DAYS`` ago
whose files are still there is not requested again (its files are touched, so the
collection of unused images, :mod:`indexer.unused_images`, sees them as fresh), and after
that the HTTP cache asks the shop with a conditional request. Files that are gone
(collected, or lost) are fetched again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from crawler.netguard import RefusedAddress, check_url
from indexer.images import IMAGE_SIZES, image_file, is_stored, source_map_file

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_PIXELS = 40_000_000  # a 8000×5000 photo; a bomb declares far more
MIN_SIDE = 16
WEBP_QUALITY = 80
IMAGE_MAXSIZE = 5 * 1024 * 1024
IMAGE_DEADLINE = 30.0  # seconds, every hop included
REDIRECTS = 3
REUSE_DAYS = 7
DECODING_AT_ONCE = 2


class NotAnImage(ValueError):
    """Refused: ``reason`` is a short stable word for the run's counts; a ``passing`` refusal
    (the host or the network failed, not the image) is asked again by the next run."""

    def __init__(self, reason: str, detail: str = "", passing: bool = False):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.passing = passing


# The page error kinds (crawler.errors) for which a host is taken as not answering at all,
# and those that say something about the image itself rather than the moment.
UNREACHABLE = frozenset({"dns", "connection_refused", "timeout"})
LASTING = frozenset({"too_large", "decompression_too_large", "refused_address"})


def image_key(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def prepare_image(body: bytes) -> tuple[str, dict[str, bytes]]:
    """``(key, {size: webp bytes})`` of a downloaded image; raises :class:`NotAnImage`."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not body:
        raise NotAnImage("empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=FORMATS) as opened:
                width, height = opened.size  # from the header: nothing decoded yet
                if width * height > MAX_PIXELS:
                    raise NotAnImage("too_many_pixels", f"{width}×{height}")
                if width < MIN_SIDE or height < MIN_SIDE:
                    raise NotAnImage("too_small", f"{width}×{height}")
                largest = max(IMAGE_SIZES.values())
                opened.draft("RGB", largest)  # JPEG: decode at the smallest scale that suffices
                opened.load()
                picture = ImageOps.exif_transpose(opened)
    except NotAnImage:
        raise
    except UnidentifiedImageError as exc:
        raise NotAnImage("not_an_image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAnImage("too_many_pixels", str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:  # truncated or corrupt
        raise NotAnImage("corrupt", str(exc)[:100]) from exc
    transparent = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    picture = picture.convert("RGBA" if transparent else "RGB")
    files: dict[str, bytes] = {}
    # Largest first, each smaller size from the previous one: fewer pixels to resample.
    for size, box in sorted(IMAGE_SIZES.items(), key=lambda item: -item[1][0] * item[1][1]):
        picture.thumbnail(box, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        files[size] = out.getvalue()
    return image_key(body), files


def store_image(root: Path, key: str, files: dict[str, bytes]) -> None:
    """Write each size once: a file already there has the same content (same key)."""
    for size, data in files.items():
        target = image_file(root, key, size)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)


def touch_image(root: Path, key: str) -> bool:
    """Mark a stored image as used now, before this run's record names it: the collection of
    unused images (:mod:`indexer.unused_images`) keeps files touched within its grace
    period. Its files missing (collected), the caller fetches the image again."""
    for size in IMAGE_SIZES:
        try:
            os.utime(image_file(root, key, size))
        except (OSError, ValueError):
            return False
    return True


class ProductImages:
    """Item pipeline: ``image_key`` on each product whose image could be stored."""

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.enabled = settings.getbool("EMPLETTES_IMAGES", True) and bool(settings.get("EMPLETTES_IMAGES_DIR"))
        self.root = Path(settings.get("EMPLETTES_IMAGES_DIR") or ".")
        self.maxsize = settings.getint("EMPLETTES_IMAGE_MAXSIZE", IMAGE_MAXSIZE)
        self.deadline = settings.getfloat("EMPLETTES_IMAGE_DEADLINE", IMAGE_DEADLINE)
        self.redirects = settings.getint("EMPLETTES_IMAGE_REDIRECTS", REDIRECTS)
        self.reuse_seconds = settings.getfloat("EMPLETTES_IMAGE_REUSE_DAYS", REUSE_DAYS) * 86400
        self.private_hosts = frozenset(h.lower() for h in settings.getlist("EMPLETTES_PRIVATE_HOSTS"))
        self.known: dict[str, list] = {}  # image URL -> [key or None, fetched at (epoch)]
        self.waiting: dict[str, list] = {}  # image URL -> Deferreds of items waiting for its fetch
        # "scheme://host:port" -> True (answered), False (unreachable), or the Deferreds waiting
        # for its first answer
        self.origins: dict[str, bool | list] = {}
        self.map_file: Path | None = None
        self._semaphore = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _decoding(self):
        """At most ``DECODING_AT_ONCE`` images decoded at a time: a 40-million-pixel picture
        takes about 160 MB while it is resized."""
        if self._semaphore is None:
            from twisted.internet.defer import DeferredSemaphore

            self._semaphore = DeferredSemaphore(DECODING_AT_ONCE)
        return self._semaphore

    def open_spider(self) -> None:
        source = getattr(self.crawler.spider, "source", None)
        if not self.enabled or source is None:
            return
        self.map_file = source_map_file(self.root, source.id)
        try:
            loaded = json.loads(self.map_file.read_text(encoding="utf-8"))
            self.known = {url: list(entry) for url, entry in loaded.items() if isinstance(entry, list)}
        except (OSError, ValueError, AttributeError, TypeError):
            self.known = {}

    def close_spider(self) -> None:
        if self.map_file is None:
            return
        self.map_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.map_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.known, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.map_file)

    async def process_item(self, item):
        url = item.get("image") if isinstance(item, dict) and item.get("type") == "product" else None
        if not self.enabled or not url:
            return item
        key = await self._key_for(url)
        if key:
            item["image_key"] = key
        else:
            item.pop("image_key", None)
        return item

    async def _key_for(self, url: str) -> str | None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import Deferred

        stats = self.crawler.stats
        entry = self.known.get(url)
        if (
            entry
            and time.time() - entry[1] < self.reuse_seconds
            and (entry[0] is None or (touch_image(self.root, entry[0]) and is_stored(self.root, entry[0])))
        ):
            stats.inc_value("emplettes/images/reused")
            return entry[0]
        if url in self.waiting:  # another product of this run is fetching the same image
            waiter: Deferred = Deferred()
            self.waiting[url].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self.waiting[url] = []
        key, remember = None, False
        try:
            key, remember = await self._fetch_and_store(url)
        finally:
            if remember:
                self.known[url] = [key, time.time()]
            for waiter in self.waiting.pop(url):
                waiter.callback(key)
        return key

    async def _fetch_and_store(self, url: str) -> tuple[str | None, bool]:
        """``(key or None, whether the outcome holds until the image is due again)``."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThread

        stats = self.crawler.stats
        try:
            body = await self._download(url)
            key, files = await maybe_deferred_to_future(self._decoding().run(deferToThread, prepare_image, body))
            await maybe_deferred_to_future(deferToThread(store_image, self.root, key, files))
        except NotAnImage as exc:
            stats.inc_value("emplettes/images/refused")
            stats.inc_value(f"emplettes/images/refused/{exc.reason}")
            self.crawler.spider.logger.info("image %s refused: %s", url, exc)
            return None, not exc.passing
        stats.inc_value("emplettes/images/stored")
        return key, True

    async def _host_answers(self, origin: str) -> bool:
        """Wait until ``origin`` is known to answer; True when the caller's request is its first
        (the caller then settles it with :meth:`_host_settled`)."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import Deferred

        state = self.origins.get(origin)
        if state is None:
            self.origins[origin] = []
            return True
        if isinstance(state, list):
            waiter: Deferred = Deferred()
            state.append(waiter)
            state = await maybe_deferred_to_future(waiter)
        if state is False:
            raise NotAnImage("host_unreachable", origin, passing=True)
        return False

    def _host_settled(self, origin: str, answered: bool) -> None:
        waiters = self.origins.get(origin)
        self.origins[origin] = answered
        for waiter in waiters if isinstance(waiters, list) else ():
            waiter.callback(answered)

    async def _download(self, url: str) -> bytes:
        """The image's bytes, redirects followed here so that each hop meets the guard."""
        from scrapy import Request

        started = time.monotonic()
        for _hop in range(self.redirects + 1):
            request = Request(
                url,
                priority=-10,  # after the pages: products first, their pictures when the host is free
                dont_filter=True,
                meta={
                    "dont_redirect": True,
                    "handle_httpstatus_all": True,
                    "download_maxsize": self.maxsize,
                    "download_warnsize": 0,
                    # No retries: they would each get the time left again. An image that failed
                    # for the moment is asked again by the next run (``passing``).
                    "dont_retry": True,
                    "emplettes_image": True,
                },
            )
            # The address as Scrapy will ask it, not as written: "http://a\@b/" goes to a.
            host = (urlsplit(request.url).hostname or "").lower()
            try:
                check_url(request.url, allow_private=host in self.private_hosts)
            except RefusedAddress as exc:
                raise NotAnImage("refused_address", str(exc)) from exc
            response = await self._ask(request, started)
            # Counted apart: a run's "pages" are the shop's pages, not its pictures.
            self.crawler.stats.inc_value("emplettes/images/responses")
            location = response.headers.get("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(response.url, location.decode("latin-1"))
                continue
            if response.status != 200:
                # A server in trouble or asking to slow down may serve it next time.
                passing = response.status >= 500 or response.status in (408, 429)
                raise NotAnImage(f"http_{response.status}", url, passing=passing)
            return response.body
        raise NotAnImage("too_many_redirects", url)

    async def _ask(self, request, started: float):
        """``request`` through Scrapy, once its host is known to answer (or as the host's
        first), within what is left of the image's deadline."""
        from scrapy.exceptions import IgnoreRequest

        parts = urlsplit(request.url)
        origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        first = await self._host_answers(origin)
        answered = True
        try:
            left = self.deadline - (time.monotonic() - started)
            if left <= 0:  # spent waiting in the host's queue: another run may be quicker
                raise NotAnImage("deadline", request.url, passing=True)
            request.meta["download_timeout"] = left
            return await self.crawler.engine.download_async(request)
        except NotAnImage:
            raise
        except IgnoreRequest as exc:  # robots.txt, the guard's middleware
            raise NotAnImage("ignored", str(exc)[:200]) from exc
        except Exception as exc:  # unreachable, too large, cut short: named as a page's would be
            from twisted.python.failure import Failure

            from crawler.errors import failure_kind

            kind = failure_kind(Failure(exc)) or "ignored"
            answered = kind not in UNREACHABLE
            raise NotAnImage(kind, f"{type(exc).__name__}: {str(exc)[:200]}", passing=kind not in LASTING) from exc
        finally:
            if first:
                self._host_settled(origin, answered)
