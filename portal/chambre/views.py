"""The dashboard's pages: sources at a glance, one source, data quality, clicks, adding a
shop, the journal. Every page shows and acts on the user's own chamber's sources only: a
source of another chamber answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp

from indexer.load import index_outcome_label
from indexer.runlog import ago, scheduler_status
from indexer.search import BackendUnavailable, SearchBackend, SearchQuery
from portal.backend import get_backend as portal_backend
from portal.chambre import overview
from portal.chambre.auth import ConfirmForm, current_user
from portal.chambre.blueprint import bp, dashboard
from portal.chambre.charts import daily_series
from portal.chambre.commands import read_shop, run_command
from portal.chambre.quality import Quality, json_ld
from portal.clicks import FILENAME as CLICKS_FILE
from portal.clicks import read_clicks
from portal.clicks import today as clicks_today
from portal.i18n import _
from portal.presenters import product_view, search_view
from portal.search import run_search

ADD_TIMEOUT = 60.0  # seconds for `sources add`: detection reads a few pages of the shop
PREVIEW_PAGES = 6  # products (pages of a website) read for the preview of a shop to add
PRODUCTS_SHOWN = 12
CLICK_PERIODS = (7, 30, 90)


def get_backend() -> SearchBackend | None:
    """The search index, or None while it is down: the dashboard then still shows the runs
    (they come from run files and the state table) and says the catalogue is unavailable."""
    try:
        return portal_backend()
    except BackendUnavailable:
        return None


def staff_view(view: dict[str, Any]) -> dict[str, Any]:
    """Product cards without their /go/ link: staff looking at a shop must not count as
    residents going to it (the clicks page would be skewed)."""
    for product in view["results"]:
        product["id"] = None
    return view


def _user():
    user = current_user()
    assert user is not None  # the blueprint's guard ran
    return user


def chamber_sources() -> list[dict[str, Any]]:
    return dashboard().registry.read().of_chamber(_user().chamber)


def source_or_404(source_id: str) -> dict[str, Any]:
    """The user's chamber's source, or 404 (another chamber's source is not even admitted to exist)."""
    source = dashboard().registry.read().by_id(source_id)
    if source is None or source.get("chamber") != _user().chamber:
        abort(404)
    return source


bp.add_app_template_filter(ago, "freshness_ago")


@bp.context_processor
def dashboard_globals() -> dict[str, Any]:
    return {
        "user": current_user(),
        "confirm_form": ConfirmForm(),
        "outcome_label": overview.outcome_label,
        "error_label": overview.error_label,
        "index_outcome_label": index_outcome_label,
        "registry_problems": dashboard().registry.read().problems if current_user() else [],
    }


# -- sources at a glance --------------------------------------------------------------------


@bp.get("/")
def sources():
    backend = get_backend()
    rows = overview.source_rows(dashboard().config, backend, dashboard().catalogues, chamber_sources())
    towns = sorted({row.source.get("town") or "" for row in rows} - {""})
    kinds = sorted({row.source.get("kind") or "website" for row in rows})
    outcomes = [o for o in overview.OUTCOME_LABELS if any(row.outcome == o for row in rows)]
    chosen = {
        "commune": request.args.get("commune", ""),
        "type": request.args.get("type", ""),
        "resultat": request.args.get("resultat", ""),
    }
    shown = [
        row
        for row in rows
        if (not chosen["commune"] or row.source.get("town") == chosen["commune"])
        and (not chosen["type"] or (row.source.get("kind") or "website") == chosen["type"])
        and (not chosen["resultat"] or row.outcome == chosen["resultat"])
    ]
    return render_template(
        "chambre/sources.html",
        rows=shown,
        total=len(rows),
        towns=towns,
        kinds=kinds,
        outcomes=outcomes,
        chosen=chosen,
        scheduler=scheduler_status(dashboard().config.data_dir),
        index_down=any(not row.catalogue.available for row in rows),
        troubled=sum(bool(row.problems) for row in rows),
        requested={path.stem for path in dashboard().config.crawl_requests_dir.glob("*.json")},
    )


# -- one source ----------------------------------------------------------------------------


@bp.get("/source/<source_id>")
def source(source_id: str):
    entry = source_or_404(source_id)
    config = dashboard().config
    backend = get_backend()
    runs = overview.history(config, source_id)
    catalogue = dashboard().catalogues.get(backend, source_id, overview.latest_run_id(config, source_id))
    view = None
    if backend is not None:
        try:
            query, result = run_search(
                backend,
                SearchQuery(filters={"source_id": (source_id,)}, sort="newest", per_page=PRODUCTS_SHOWN, facets=()),
            )
            view = staff_view(search_view(result, query))
        except BackendUnavailable:
            pass
    shops = []
    for shop_id, shop_name in sorted(catalogue.shops.items(), key=lambda item: item[1].lower()):
        quality = catalogue.qualities[shop_id]
        shops.append(
            {
                "id": shop_id,
                "name": shop_name,
                "quality": quality,
                "json_ld": json_ld(catalogue.examples.get(shop_id), shop_name) if quality.missing else None,
            }
        )
    with_errors = next((run for run in runs if run.page_errors), None)
    return render_template(
        "chambre/source.html",
        source=entry,
        runs=runs,
        failing_run=with_errors,
        failures=overview.failed_urls(with_errors),
        robots=[overview.robots_refusals(run) for run in runs],
        view=view,
        catalogue=catalogue,
        shops=shops,
        requested=(config.crawl_requests_dir / f"{source_id}.json").exists(),
        scheduler=scheduler_status(config.data_dir),
    )


@bp.post("/source/<source_id>/collecter")
def crawl_now(source_id: str):
    """« Lancer une collecte »: a request file the scheduler takes at its next poll; no crawl here."""
    source_or_404(source_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _user()
    folder = dashboard().config.crawl_requests_dir
    folder.mkdir(parents=True, exist_ok=True)
    request_file = folder / f"{source_id}.json"
    tmp = folder / f".{source_id}.{os.getpid()}.tmp"
    requested_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    tmp.write_text(json.dumps({"source_id": source_id, "by": user.email, "at": requested_at}), encoding="utf-8")
    os.replace(tmp, request_file)
    dashboard().accounts.record(user.email, user.chamber, "collecte demandée", source_id)
    if scheduler_status(dashboard().config.data_dir)["state"] == "running":
        flash(_("Collecte demandée : le planificateur la lance dans quelques secondes."))
    else:
        flash(_("Collecte demandée. Le planificateur ne tourne pas : elle partira à son redémarrage."))
    return redirect(url_for("chambre.source", source_id=source_id))


# -- data quality --------------------------------------------------------------------------


@bp.get("/qualite")
def quality():
    """Every shop of the chamber, those with the most to gain first; beside them, the figures
    of the chamber as a whole and of the whole region (no other chamber's shop is named)."""
    config = dashboard().config
    backend = get_backend()
    mine = {s["id"] for s in chamber_sources()}
    table = []
    chamber_total, region_total = Quality(), Quality()
    for entry in dashboard().registry.read().sources:
        catalogue = dashboard().catalogues.get(backend, entry["id"], overview.latest_run_id(config, entry["id"]))
        region_total = region_total.merge(catalogue.quality)
        if entry["id"] not in mine:
            continue
        chamber_total = chamber_total.merge(catalogue.quality)
        for shop_id, shop_name in catalogue.shops.items():
            table.append(
                {"source": entry, "shop_id": shop_id, "name": shop_name, "quality": catalogue.qualities[shop_id]}
            )
    table.sort(key=lambda row: (-row["quality"].gain * row["quality"].products, row["name"].lower()))
    totals = [(_("Votre chambre"), chamber_total), (_("Toute la région"), region_total)]
    return render_template("chambre/quality.html", table=table, totals=totals)


# -- clicks --------------------------------------------------------------------------------


def _period() -> int:
    try:
        days = int(request.args.get("jours", "30"))
    except ValueError:
        days = 30
    return days if days in CLICK_PERIODS else 30


def chamber_shops() -> dict[str, str]:
    """shop id -> name, for every shop of the chamber's sources (a source's own id included)."""
    config = dashboard().config
    backend = get_backend()
    shops: dict[str, str] = {}
    for entry in chamber_sources():
        shops.setdefault(entry["id"], entry.get("name") or entry["id"])
        catalogue = dashboard().catalogues.get(backend, entry["id"], overview.latest_run_id(config, entry["id"]))
        shops.update(catalogue.shops)
    return shops


def _clicks(days: int) -> tuple[dict[str, str], list, date, date]:
    until = date.fromisoformat(clicks_today())  # the chamber's day (Europe/Paris), as clicks are counted
    since = until - timedelta(days=days - 1)
    shops = chamber_shops()
    rows = [
        r
        for r in read_clicks(dashboard().config.data_dir / CLICKS_FILE, since=since, until=until)
        if r.shop_id in shops
    ]
    return shops, rows, since, until


@bp.get("/clics")
def clicks():
    days = _period()
    shops, rows, since, until = _clicks(days)
    charts = []
    for shop_id, name in shops.items():
        counts = {r.day: r.count for r in rows if r.shop_id == shop_id}
        if counts:
            charts.append(daily_series(shop_id, name, counts, since, until))
    charts.sort(key=lambda chart: -chart.total)
    return render_template(
        "chambre/clicks.html", charts=charts, days=days, periods=CLICK_PERIODS, since=since, until=until
    )


def _cell(value: str) -> str:
    """A spreadsheet reads ``=…`` as a formula: crawled shop names are data, never formulas."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/clics.csv")
def clicks_csv():
    days = _period()
    shops, rows, since, until = _clicks(days)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # French spreadsheets expect ';'
    writer.writerow(["jour", "boutique", "nom", "clics"])
    for row in rows:
        writer.writerow([row.day, row.shop_id, _cell(shops.get(row.shop_id, "")), row.count])
    name = f"clics-{_user().chamber}-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM tells spreadsheets it is UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- adding a shop -------------------------------------------------------------------------


class AddShopForm(FlaskForm):
    url = StringField(
        _("Adresse du site de la boutique"),
        validators=[DataRequired(), URL(require_tld=False, message=_("Une adresse http:// ou https:// complète"))],
    )
    town = StringField(_("Commune (si le site ne la donne pas)"), validators=[Optional(), Length(max=100)])
    postcode = StringField(
        _("Code postal (si le site ne le donne pas)"),
        validators=[Optional(), Regexp(r"^\d{5}$", message=_("Cinq chiffres"))],
    )
    confirm = HiddenField()


def _allow_private() -> bool:
    from flask import current_app

    return bool(current_app.config.get("EMPLETTES_ALLOW_PRIVATE"))  # tests only: their shops are on 127.0.0.1


def _add_args(form: AddShopForm, *, dry_run: bool) -> list[str]:
    args = ["sources", "add", form.url.data.strip(), "--json", "--chamber", _user().chamber]
    if form.town.data:
        args += ["--town", form.town.data.strip()]
    if form.postcode.data:
        args += ["--postcode", form.postcode.data.strip()]
    if dry_run:
        args.append("--dry-run")
    if _allow_private():
        args.append("--allow-private")
    return args


@bp.route("/ajouter", methods=["GET", "POST"])
def add_shop():
    user = _user()
    form = AddShopForm()
    preview = None
    products: list[dict[str, Any]] = []
    errors: list[str] = []
    if user.role != "admin":
        return render_template("chambre/add.html", form=None, preview=None, products=[], errors=[]), 403
    if form.validate_on_submit():
        confirmed = form.confirm.data == "oui"
        result = run_command(dashboard().config, _add_args(form, dry_run=not confirmed), timeout=ADD_TIMEOUT)
        if result.ok and result.lines:
            preview = result.lines[0]
            if not confirmed:  # what residents would see of it, as `emplettes check` reads it
                config = dashboard().config
                shop = read_shop(
                    config,
                    form.url.data.strip(),
                    pages=PREVIEW_PAGES,
                    timeout=config.mirror_time_budget,
                    allow_private=_allow_private(),
                )
                products = [product_view(p) for p in shop["products"][:PREVIEW_PAGES]]
                for product in products:
                    product["id"] = None  # a preview: no /go/ link, no click counted
            if confirmed:
                dashboard().accounts.record(user.email, user.chamber, "boutique ajoutée", preview["id"], form.url.data)
                flash(_("« %(id)s » est ajoutée au registre ; sa première collecte suivra.", id=preview["id"]))
                return redirect(url_for("chambre.sources"))
        else:
            errors = result.errors or [_("la boutique n'a pas pu être ajoutée")]
    return render_template("chambre/add.html", form=form, preview=preview, products=products, errors=errors)


# -- the journal ---------------------------------------------------------------------------


@bp.get("/journal")
def journal():
    return render_template("chambre/journal.html", entries=dashboard().accounts.journal(_user().chamber))
