"""``/ma-boutique``: a shop owner types their site's address and sees what the portal reads.

What kind of site it is, how many products it declares, a few of them as residents would
see them, and what to add (the JSON-LD block built from one of its own products). The page
is public, so it is fenced in:

- the reading is ``emplettes check --json`` in a subprocess: the crawler's address guard
  (no private or loopback address, every redirect checked), ``MIRROR_PAGES`` pages at most,
  killed after ``MIRROR_TIME_BUDGET`` seconds in all; the web process fetches nothing;
- ``MIRROR_RATE_LIMIT`` checks per client (the token buckets of :mod:`portal.ratelimit`),
  and two checks at a time for the whole process;
- it stores nothing and registers nothing: the answer says how to ask one's chamber.
"""

from __future__ import annotations

import math
import threading

from flask import Blueprint, Flask, current_app, render_template, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import URL, DataRequired, Length

from config import Config
from portal.chambre.commands import read_shop
from portal.chambre.quality import example_product, json_ld, quality_of
from portal.i18n import _
from portal.presenters import product_view
from portal.ratelimit import TokenBuckets, client_key, parse_rate

bp = Blueprint("mirror", __name__)
EXTENSION = "emplettes.mirror"
AT_ONCE = 2  # checks running together in one portal process
SHOWN = 6
KIND_LABELS = {
    "website": "un site dont les pages décrivent leurs produits (données structurées schema.org)",
    "shopify": "une boutique Shopify",
    "woocommerce": "une boutique WooCommerce",
    "feed": "un flux de produits",
    "social": "une page de réseau social",
    "platform": "une plateforme de la chambre",
}


class MirrorForm(FlaskForm):
    url = StringField(
        _("L'adresse de votre site"),
        validators=[
            DataRequired(message=_("Indiquez l'adresse de votre site.")),
            Length(max=2000),
            URL(require_tld=True, message=_("Une adresse complète, comme https://ma-boutique.fr")),
        ],
    )


class MirrorState:
    def __init__(self, config: Config) -> None:
        self.config = config
        rate = parse_rate(config.mirror_rate_limit, name="MIRROR_RATE_LIMIT")
        self.buckets = TokenBuckets(rate) if rate else None
        self.slots = threading.BoundedSemaphore(AT_ONCE)


@bp.route("/ma-boutique", methods=["GET", "POST"])
def page():
    form = MirrorForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("mirror.html", form=form, report=None), status
    state: MirrorState = current_app.extensions[EXTENSION]
    if state.buckets is not None:
        wait = state.buckets.take(client_key(request.remote_addr))
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            message = _("Vous avez lancé beaucoup de vérifications : réessayez dans %(minutes)d min.", minutes=minutes)
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return render_template("mirror.html", form=form, report=None, busy=message), 429, headers
    if not state.slots.acquire(blocking=False):
        message = _("D'autres vérifications sont en cours : réessayez dans une minute.")
        return render_template("mirror.html", form=form, report=None, busy=message), 503, {"Retry-After": "60"}
    try:
        report = read_shop(
            state.config,
            form.url.data.strip(),
            pages=state.config.mirror_pages,
            timeout=state.config.mirror_time_budget,
            allow_private=current_app.config.get("EMPLETTES_ALLOW_PRIVATE", False),  # tests only
        )
    finally:
        state.slots.release()
    products = report["products"]
    shop_name = (report["shop"] or {}).get("name")
    quality = quality_of(products)
    return render_template(
        "mirror.html",
        form=form,
        report=report,
        kind_label=_(KIND_LABELS.get(report["kind"] or "", "")) if report["kind"] else None,
        shown=[product_view(p) for p in products[:SHOWN]],
        quality=quality if products else None,
        block=json_ld(example_product(products), shop_name) if not products or quality.missing else None,
        pages=state.config.mirror_pages,
    )


def init_app(app: Flask, config: Config) -> None:
    app.extensions[EXTENSION] = MirrorState(config)
    app.register_blueprint(bp)
