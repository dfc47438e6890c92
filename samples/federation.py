"""The whole federation for the demo: the markup shops of ``SHOPS`` beside shops read
through their platform's own channel, each kind left for the crawler to detect.

=========================  ==============================================================
``epicerie-des-tanneurs``  Shopify, registered by its market sub-folder ``/fr-fr/``
                           (``products.json`` under ``Shopify.routes.root``)
``cave-saint-martin``      WooCommerce installed in ``/boutique/``: its pages announce the
                           REST root (``Link: <…/boutique/wp-json/>; rel="https://api.w.org/"``)
``sabots-du-berry``        a Google Merchant feed advertised by its home page, beside the
                           blog's RSS feed
``vitrines-de-blois``      the chamber's platform, hosting three shops (``kind: platform``)
``atelier-de-loire``       a social catalogue page with OpenGraph products (``kind: social``)
=========================  ==============================================================

They are served by :class:`samples.platforms.PlatformSites` on 127.0.1.101… on the same
port as the markup shops (:class:`FederationSites`), and listed in the demo registry by
:func:`federation_entries`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from ruamel.yaml import YAML

from samples.platforms import PlatformShop, PlatformSites
from samples.server import DEFAULT_HOST_PREFIX, DEFAULT_PORT, SampleSites
from samples.social import SocialPage
from samples.sources import _list, _scalar

FIRST_HOST = 101


@dataclass(frozen=True)
class FederationShop:
    id: str
    name: str
    town: str
    postcode: str
    address: str
    lat: float
    lon: float
    categories: tuple[str, ...]
    site: object  # a PlatformShop or a SocialPage
    services: tuple[str, ...] = ("click_and_collect",)
    kind: str | None = None  # only where nothing on the page could tell (a social page)
    platform: dict | None = field(default=None)  # kind: platform: how to read it

    @property
    def path(self) -> str:
        return getattr(self.site, "prefix", "") or "/"


def _feed_shop() -> PlatformShop:
    shop = PlatformShop(
        "feed-rss",
        id="sabots-du-berry",
        titles=[
            ("Sabots en peuplier du Berry", "Chaussures"),
            ("Sabots vernis rouges enfant", "Chaussures"),
            ("Chaussons en feutre de laine", "Chaussons"),
            ("Galoches cuir et bois", "Chaussures"),
            ("Semelles en liège", "Entretien"),
            ("Cirage naturel à la cire d'abeille", "Entretien"),
        ],
    )
    return shop


FEDERATION: list[FederationShop] = [
    FederationShop(
        "epicerie-des-tanneurs",
        "Épicerie des Tanneurs",
        "Orléans",
        "45000",
        "14 rue des Tanneurs",
        47.8986,
        1.9057,
        ("épicerie fine", "vinaigres"),
        PlatformShop(
            "shopify",
            id="epicerie-des-tanneurs",
            prefix="/fr-fr/",
            titles=[
                ("Vinaigre d'Orléans à l'estragon", "Vinaigres"),
                ("Moutarde à l'ancienne au vinaigre d'Orléans", "Condiments"),
                ("Cotignac d'Orléans, boîte ronde", "Confiseries"),
                ("Safran du Gâtinais 0,5 g", "Épices"),
                ("Miel de Sologne toutes fleurs 500 g", "Miels"),
                ("Huile de noix du Loiret 25 cl", "Huiles"),
                ("Pâté de Pithiviers aux amandes", "Pâtisseries"),
                ("Coffret gourmand du Loiret", "Coffrets"),
            ],
        ),
        services=("click_and_collect", "delivery"),
    ),
    FederationShop(
        "cave-saint-martin",
        "Cave Saint-Martin",
        "Vendôme",
        "41100",
        "3 place Saint-Martin",
        47.7929,
        1.0656,
        ("caviste",),
        PlatformShop(
            "woocommerce",
            id="cave-saint-martin",
            prefix="/boutique/",
            titles=[
                ("Coteaux du Vendômois gris 2023", "Vins"),
                ("Coteaux du Vendômois rouge 2022", "Vins"),
                ("Cheverny blanc 2023", "Vins"),
                ("Touraine sauvignon 2023", "Vins"),
                ("Crémant de Loire brut", "Effervescents"),
                ("Jus de pomme du Perche 1 L", "Jus"),
                ("Coffret trois vins du Loir-et-Cher", "Coffrets"),
            ],
        ),
    ),
    FederationShop(
        "sabots-du-berry",
        "Sabots du Berry",
        "Bourges",
        "18000",
        "22 rue Bourbonnoux",
        47.0834,
        2.3999,
        ("chaussures", "artisanat"),
        _feed_shop(),
        services=("click_and_collect", "gift_vouchers"),
    ),
    FederationShop(
        "vitrines-de-blois",
        "Les Vitrines de Blois",
        "Blois",
        "41000",
        "16 rue de la Voûte du Château",
        47.5861,
        1.3359,
        ("place de marché",),
        PlatformShop(
            "chamber",
            id="vitrines-de-blois",
            # product i is sold by SELLERS[i % 3]: a book, a bicycle part, a cheese, in turn
            titles=[
                ("Histoire du château de Blois", "Livres"),
                ("Sacoche de vélo Loire à Vélo", "Vélos"),
                ("Selles-sur-Cher AOP", "Fromages"),
                ("Guide des jardins de Chaumont", "Livres"),
                ("Éclairage avant rechargeable", "Vélos"),
                ("Tomme de Sologne au lait cru", "Fromages"),
                ("Contes de Touraine illustrés", "Livres"),
                ("Antivol en U renforcé", "Vélos"),
                ("Chèvre cendré de Valençay", "Fromages"),
                ("Carnet de croquis de la Loire", "Livres"),
                ("Kit de réparation de crevaison", "Vélos"),
                ("Plateau de fromages du Val de Loire", "Fromages"),
            ],
        ),
        platform=PlatformShop.PLATFORM_CONFIG,
    ),
    FederationShop(
        "atelier-de-loire",
        "Atelier de Loire",
        "Montrichard Val de Cher",
        "41400",
        "",
        47.3430,
        1.1860,
        ("céramique",),
        SocialPage(n=6, id="atelier-de-loire"),
        kind="social",
    ),
]


def federation_shop(shop_id: str) -> FederationShop:
    for shop in FEDERATION:
        if shop.id == shop_id:
            return shop
    raise KeyError(shop_id)


def federation_base_urls(port: int = DEFAULT_PORT, host_prefix: str = DEFAULT_HOST_PREFIX) -> dict[str, str]:
    """Shop id -> the address the registry names (a sub-folder for those installed in one)."""
    return {shop.id: f"http://{host_prefix}{FIRST_HOST + k}:{port}{shop.path}" for k, shop in enumerate(FEDERATION)}


def _block(key: str, value: dict) -> list[str]:
    """``value`` as block YAML under ``key``, indented as a registry entry's field."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 200
    yaml.indent(mapping=2, sequence=4, offset=2)  # as `sources add` writes the file back
    buffer = io.StringIO()
    yaml.dump({key: value}, buffer)
    return ["    " + line for line in buffer.getvalue().splitlines()]


def federation_entries(base_urls: dict[str, str]) -> str:
    """The registry entries (YAML) of the federation shops named in ``base_urls``."""
    entries = []
    for shop in FEDERATION:
        if shop.id not in base_urls:
            continue
        lines = [
            f"  - id: {shop.id}",
            f"    name: {_scalar(shop.name)}",
            f"    url: {base_urls[shop.id]}",
        ]
        if shop.kind:
            lines.append(f"    kind: {shop.kind}")
        lines += [
            f"    town: {_scalar(shop.town)}",
            f'    postcode: "{shop.postcode}"',
        ]
        if shop.address:
            lines.append(f"    address: {_scalar(shop.address)}")
        lines += [
            f"    geo: {{lat: {shop.lat}, lon: {shop.lon}}}",
            f"    categories: {_list(shop.categories)}",
        ]
        if list(shop.services) != ["click_and_collect"]:
            lines.append(f"    services: {_list(shop.services)}")
        if shop.platform:
            lines += _block("platform", shop.platform)
        lines.append("    allow_private: true")
        entries.append("\n".join(lines))
    return "\n\n".join(entries)


class FederationSites:
    """The markup shops (:class:`SampleSites`) and the federation's platform shops, one port."""

    def __init__(self, port: int = DEFAULT_PORT, host_prefix: str = DEFAULT_HOST_PREFIX):
        self.markup = SampleSites(port=port, host_prefix=host_prefix)
        self.host_prefix = host_prefix
        self.platforms: PlatformSites | None = None
        self.base_urls: dict[str, str] = {}

    @property
    def port(self) -> int | None:
        return self.markup.port

    def start(self) -> FederationSites:
        self.markup.start()
        try:
            sites = [shop.site for shop in FEDERATION]
            self.platforms = PlatformSites(sites, self.host_prefix, FIRST_HOST, port=self.markup.port or 0).start()
        except BaseException:
            self.markup.stop()
            raise
        self.base_urls = {
            **self.markup.base_urls,
            **{shop.id: self.platforms.base_urls[shop.id].rstrip("/") + shop.path for shop in FEDERATION},
        }
        return self

    def stop(self) -> None:
        if self.platforms is not None:
            self.platforms.stop()
        self.markup.stop()

    def __enter__(self) -> FederationSites:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
