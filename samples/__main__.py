"""``python -m samples``: serve the sample shops in the foreground and print their URLs.

python -m samples                      # every shop on 127.0.1.N:8701
python -m samples --port 0 --shops fromagerie-du-donjon,cave-du-vieux-chinon
python -m samples --write-sources sources.yaml   # regenerate the demo registry and exit
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from samples import SHOPS, SampleSites, demo_base_urls, write_sources_yaml
from samples.server import DEFAULT_HOST_PREFIX, DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port of every shop (default {DEFAULT_PORT}; 0: a free one)"
    )
    parser.add_argument(
        "--host-prefix", default=DEFAULT_HOST_PREFIX, help="shop N listens on PREFIX+N (default %(default)s)"
    )
    parser.add_argument("--shops", help="comma-separated shop ids (default: all)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--write-sources", metavar="PATH", help="write the registry for the default addresses and exit")
    args = parser.parse_args(argv)

    if args.write_sources:
        urls = demo_base_urls(args.port, args.host_prefix)
        write_sources_yaml(args.write_sources, urls)
        print(f"wrote {args.write_sources} ({len(urls)} sources)")
        return 0

    shops = args.shops.split(",") if args.shops else None
    with SampleSites(port=args.port, host_prefix=args.host_prefix, shops=shops, quiet=not args.verbose) as sites:
        specs = {s.id: s for s in SHOPS}
        for shop_id, url in sites.base_urls.items():
            spec = specs[shop_id]
            print(f"{url:<28} {spec.name} ({spec.trade}, {spec.town}) [{spec.style}]")
        print("Ctrl+C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
