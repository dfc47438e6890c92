"""The residents' portal: one regional search, links out to each shop's own product page.

Flask application factory with blueprints (search pages, shop pages, JSON API). The web
layer reads only through :mod:`indexer`'s search interface and never imports the crawler.

    from portal import create_app
    from portal.server import serve
    serve(create_app(), "127.0.0.1", 8000)
"""

from __future__ import annotations

from flask import Flask

from config import Config
from indexer.search import SearchBackend


def create_app(config: Config | None = None, backend: SearchBackend | None = None) -> Flask:
    """Build the portal. Without ``backend``, the index named by ``config`` is opened
    read-only on the first request that needs it (and retried while it does not exist)."""
    from portal import (
        api,
        assets,
        chambre,
        compression,
        discovery,
        errors,
        generations,
        go,
        i18n,
        images,
        mirror,
        proxies,
        ratelimit,
        responses,
        search,
        security,
        shops,
        templating,
    )
    from portal import (
        backend as backend_state,
    )

    app = Flask(__name__)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented key order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    config = config or Config()
    public_url = (config.public_url or "").strip()
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ValueError(
            f"PUBLIC_URL: expected an http(s) address such as https://emplettes.region.fr, got {public_url!r}"
        )
    backend_state.init_app(app, config, backend)
    i18n.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    assets.init_app(app)  # /static/ under content-hashed names, asset_url() in templates
    compression.init_app(app)
    responses.init_app(app, config.search_cache_size, config.response_cache_seconds)
    generations.init_app(app)
    proxies.init_app(app, config.trusted_proxies)
    ratelimit.init_app(app, config.api_rate_limit, config.api_rate_burst, config.directory_rate_limit)
    go.init_app(app, config.click_count_limit)
    errors.init_app(app)

    app.register_blueprint(search.bp)
    app.register_blueprint(shops.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(go.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(images.bp)
    chambre.init_app(app, config)  # the chambers' dashboard, /chambre/ (sessions, CSRF)
    mirror.init_app(app, config)  # /ma-boutique, the shop owners' public self-check
    return app
