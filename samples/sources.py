"""``sources.yaml`` for the sample shops, written as a chamber would write it.

The committed ``sources.yaml`` at the repository root is ``sources_yaml(default_base_urls())``
(``python -m samples --write-sources sources.yaml`` regenerates it, and a test checks they
match); tests that serve the shops on another port write their own copy with
``write_sources_yaml(path, sites.base_urls)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ruamel.yaml import YAML, YAMLError

from samples.catalogue import ShopSpec

HEADER = """\
# Registre des sources du portail emplettes : les boutiques que le portail visite.
#
# C'est le seul fichier que la chambre de commerce édite. Chaque entrée de « sources »
# décrit une boutique et son site :
#
#   id            identifiant stable (minuscules, chiffres, tirets), repris dans les
#                 fichiers de collecte : ne plus le changer une fois publié
#   name          nom de la boutique tel que les habitants le connaissent
#   url           page d'accueil du site de la boutique (http ou https)
#   kind          plateforme (website, shopify, woocommerce, feed, social, platform) ;
#                 facultatif, détectée automatiquement si absente
#   town          commune ; postcode : code postal entre guillemets ("37000")
#   address       adresse de la boutique ; telephone : numéro affiché
#   geo           coordonnées {lat, lon} pour la recherche autour de soi
#   categories    métiers de la boutique, en minuscules
#   services      click_and_collect (retrait en boutique), delivery (livraison),
#                 gift_vouchers (chèques cadeaux locaux)
#   schedule      fréquence de visite : daily, weekly, "every 6h" ou une expression cron
#   sitemap       plan du site, seulement si robots.txt ne l'indique pas
#   max_pages     nombre maximal de pages visitées par passage
#   allow_private autorise une adresse privée ou de bouclage (voir ci-dessous)
#
# Les valeurs de « defaults » s'appliquent à chaque entrée qui ne les précise pas ;
# « departments » liste les départements de la région : un code postal d'ailleurs est une
# erreur, et chaque commune doit avoir ce code postal (liste officielle des communes).
#
# Ces boutiques sont les boutiques d'exemple de la démo (samples/catalogue.yaml) :
# chacune est servie sur sa propre adresse de bouclage, 127.0.1.N, par « emplettes demo ».
# allow_private: true est nécessaire pour cela seulement : le robot refuse par défaut les
# adresses privées et de bouclage, et les vraies boutiques n'en ont jamais besoin.
#
# Fichier généré par « python -m samples --write-sources sources.yaml » : modifiez
# samples/catalogue.yaml puis régénérez-le.

defaults:
  schedule: daily
  max_pages: 500
  services: [click_and_collect]
  departments: ["18", "28", "36", "37", "41", "45"]
"""

_YAML = YAML(typ="safe", pure=True)


def _scalar(value: str) -> str:
    """A YAML scalar: plain when it reads back as the same string, double-quoted otherwise."""
    try:
        if value == value.strip() and "#" not in value and _YAML.load(f"k: {value}") == {"k": value}:
            return value
    except YAMLError:
        pass
    return json.dumps(value, ensure_ascii=False)


def _list(values) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


def _entry(shop: ShopSpec, base_url: str) -> str:
    base_url = base_url.rstrip("/") + "/"
    lines = [
        f"  - id: {shop.id}",
        f"    name: {_scalar(shop.name)}",
        f"    url: {base_url}",
        f"    town: {_scalar(shop.town)}",
        f'    postcode: "{shop.postcode}"',
        f"    address: {_scalar(shop.address)}",
        f"    telephone: {_scalar(shop.telephone)}",
        f"    geo: {{lat: {shop.lat}, lon: {shop.lon}}}",
        f"    categories: {_list(shop.categories)}",
    ]
    if list(shop.services) != ["click_and_collect"]:
        lines.append(f"    services: {_list(shop.services)}")
    if shop.schedule != "daily":
        lines.append(f"    schedule: {_scalar(shop.schedule)}")
    if shop.sitemap_in_registry:
        lines.append(f"    sitemap: {base_url}sitemap.xml  # absent de robots.txt")
    lines.append("    allow_private: true")
    return "\n".join(lines)


def sources_yaml(base_urls: Mapping[str, str]) -> str:
    """The registry of the shops named in ``base_urls`` (shop id -> base URL), by town; then
    the federation's platform shops named there (:mod:`samples.federation`), kinds left to detect."""
    from samples import SHOPS
    from samples.federation import federation_entries

    shops = [s for s in SHOPS if s.id in base_urls]
    towns = sorted({s.town for s in shops}, key=lambda t: min(s.number for s in shops if s.town == t))
    parts = [HEADER, "sources:"]
    for town in towns:
        here = [s for s in shops if s.town == town]
        parts.append(f"\n  # ---- {town} ({here[0].postcode}) " + "-" * max(4, 60 - len(town)))
        parts.append("\n\n".join(_entry(s, base_urls[s.id]) for s in here))
    federation = federation_entries(dict(base_urls))
    if federation:
        parts.append(FEDERATION_HEADER + federation)
    return "\n".join(parts) + "\n"


FEDERATION_HEADER = """
  # ---- Boutiques lues par leur plateforme ------------------------------------------
  # Sans « kind » : le robot le détecte (Shopify, WooCommerce dans un sous-dossier, flux
  # Google Merchant annoncé par la page). La plateforme de la chambre et la page sociale
  # le disent, rien sur leurs pages ne permettant de le deviner.
"""


def write_sources_yaml(path: str | Path, base_urls: Mapping[str, str]) -> None:
    Path(path).write_text(sources_yaml(base_urls), encoding="utf-8")
