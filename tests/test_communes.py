"""Places that exist: a postcode has five digits, lies in the region's départements and is
one of its town's; the bundled list of communes also places a shop that gives no ``geo``."""

from __future__ import annotations

import json
import textwrap

import pytest

from crawler.registry import RegistryError, load_registry, parse_registry
from indexer.communes import DATA_FILE, communes, town_key

REGION = '  departments: ["18", "28", "36", "37", "41", "45"]\n'


def registry(entries: str, defaults: str = REGION) -> str:
    return "defaults:\n" + defaults + "sources:\n" + textwrap.indent(textwrap.dedent(entries), "  ")


def entry(id: str, town: str, postcode: str, extra: str = "") -> str:
    return f"- id: {id}\n  name: {id}\n  url: https://{id}.example.fr/\n  town: {town}\n  postcode: {postcode}\n{extra}"


def problems_of(text: str, tmp_path) -> list[str]:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    return [p.replace(f"{path}:", "sources.yaml:") for p in caught.value.problems]


def test_a_four_digit_postcode_is_an_error_not_a_postcode_of_the_allier(tmp_path):
    (problem,) = problems_of(registry(entry("bougies", "Tours", "3760")), tmp_path)
    assert problem.startswith("sources.yaml:8: postcode : un code postal a cinq chiffres, 3760 n'en a que 4")
    assert 'entre guillemets ("03760")' in problem


def test_a_postcode_outside_the_regions_departments_is_refused_with_the_list(tmp_path):
    (problem,) = problems_of(registry(entry("pastilles", "Vichy", '"03200"')), tmp_path)
    assert problem == (
        "sources.yaml:8: postcode : 03200 n'est pas dans les départements de la région (18, 28, 36, 37, 41, 45) : "
        "une faute de frappe ? Les départements sont dans « defaults.departments ». (source « pastilles »)"
    )


def test_a_postcode_of_another_town_names_both_towns(tmp_path):
    (problem,) = problems_of(registry(entry("bougies", "Tours", '"37400"')), tmp_path)
    assert problem.startswith("sources.yaml:7: town : 37400 est le code postal d'Amboise")
    assert "pas de Tours (Tours : 37000, 37100, 37200)" in problem


def test_a_misspelt_town_gets_the_nearest_names_and_an_unknown_postcode_is_named(tmp_path):
    found = problems_of(
        registry(entry("a", "Toursse", '"37000"') + entry("b", "Tours", '"37999"')),
        tmp_path,
    )
    assert found[0].startswith("sources.yaml:7: town : aucune commune « Toursse » dans le département 37")
    assert "voulez-vous dire Tours ?" in found[0]
    assert found[1].startswith(
        "sources.yaml:13: postcode : 37999 n'est le code postal d'aucune commune du département 37"
    )


def test_towns_match_whatever_the_spelling_and_communes_deleguees_count():
    text = registry(
        entry("a", "St Cyr sur Loire", '"37540"')
        + entry("b", "SAINT-AVERTIN", 37550)
        + entry("c", "Romorantin-Lanthenay", '"41200"')
        + entry("d", "Châteauroux", '"36000"')
    )
    assert [s.id for s in parse_registry(text).sources] == ["a", "b", "c", "d"]


def test_without_departments_only_the_bundled_departements_are_checked():
    laval = entry("laval", "Laval", '"53000"')  # Mayenne is not bundled: nothing to check against
    (source,) = parse_registry(registry(laval, defaults="  schedule: daily\n")).sources
    assert source.postcode == "53000" and source.geo is None
    with pytest.raises(RegistryError, match="n'est pas dans les départements de la région"):
        parse_registry(registry(laval))


def test_the_list_fills_geo_when_the_entry_gives_none_and_keeps_a_given_one():
    text = registry(
        entry("amboise", "Amboise", '"37400"') + entry("tours", "Tours", '"37000"', "  geo: {lat: 47.39, lon: 0.68}\n")
    )
    amboise, tours = parse_registry(text).sources
    assert amboise.geo is not None and abs(amboise.geo.lat - 47.41) < 0.05 and abs(amboise.geo.lon - 0.98) < 0.05
    assert (tours.geo.lat, tours.geo.lon) == (47.39, 0.68)


def test_departments_must_be_department_numbers(tmp_path):
    (problem,) = problems_of(
        registry(entry("a", "Tours", '"37000"'), defaults='  departments: ["Touraine"]\n'), tmp_path
    )
    assert problem.startswith("sources.yaml:2: defaults.departments : 'Touraine' n'est pas un numéro de département")


def test_the_bundled_list_covers_the_region_with_a_centre_for_every_commune():
    table = communes()
    assert sorted(table.departments) == ["18", "28", "36", "37", "41", "45"]
    current = [c for c in table.all if c.postcodes]
    assert len(current) > 1800
    assert all(c.lat is not None and 46 < c.lat < 49.5 and 0 < c.lon < 3.2 for c in current)
    assert {c.name for c in table.with_postcode("37000")} == {"Tours"}
    assert town_key("L'Île-Bouchard") == town_key("L ILE BOUCHARD")
    # The licence and source travel with the data.
    readme = (DATA_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert "Licence Ouverte" in readme and "ODbL" in readme and "jaco60/zipcodes" in readme
    assert json.loads(DATA_FILE.read_text(encoding="utf-8"))["departements"]["37"] == "Indre-et-Loire"


def test_the_demo_registry_is_made_of_places_that_exist():
    from pathlib import Path

    registry_file = Path(__file__).resolve().parents[1] / "sources.yaml"
    assert len(load_registry(registry_file).sources) >= 13


def test_a_shops_own_coordinates_beat_its_towns_centre_and_the_chambers_beat_both():
    from crawler.records import build_shop

    amboise, placed = parse_registry(
        registry(
            entry("amboise", "Amboise", '"37400"')
            + entry("placee", "Amboise", '"37400"', "  geo: {lat: 47.4, lon: 0.9}\n")
        )
    ).sources
    markup = [{"name": "Chandellerie", "lat": 47.4131, "lon": 0.9846}]
    assert (build_shop(amboise, "r1", markup)["lat"], build_shop(amboise, "r1", markup)["lon"]) == (47.4131, 0.9846)
    assert (build_shop(amboise, "r1", [])["lat"], build_shop(amboise, "r1", [])["lon"]) == (
        amboise.geo.lat,
        amboise.geo.lon,
    )
    assert (build_shop(placed, "r1", markup)["lat"], build_shop(placed, "r1", markup)["lon"]) == (47.4, 0.9)


# --------------------------------------------------------------------------- shops of a chamber platform


def platform_entry(shops: str) -> str:
    """A chamber's platform in Blois whose ``shops:`` block says where its other shops are."""
    return entry(
        "vitrines",
        "Blois",
        '"41000"',
        '  platform:\n    listings: [/produits]\n    product_links: "a::attr(href)"\n    shop_name: ".atelier"\n'
        "    shops:\n" + textwrap.indent(textwrap.dedent(shops), "      "),
    )


def test_a_platform_shops_postcode_is_checked_like_an_entrys(tmp_path):
    found = problems_of(
        registry(
            platform_entry(
                """\
                Bougies: {town: Tours, postcode: "3760"}
                Pastilles: {town: Vichy, postcode: "03200"}
                Vélos:
                  town: Tours
                  postcode: "37400"
                """
            )
        ),
        tmp_path,
    )
    assert found[0].startswith("sources.yaml:14: platform.shops.Bougies.postcode : un code postal a cinq chiffres")
    assert found[1] == (
        "sources.yaml:15: platform.shops.Pastilles.postcode : 03200 n'est pas dans les départements de la région "
        "(18, 28, 36, 37, 41, 45) : une faute de frappe ? Les départements sont dans « defaults.departments ». "
        "(source « vitrines »)"
    )
    assert found[2].startswith("sources.yaml:17: platform.shops.Vélos.town : 37400 est le code postal d'Amboise")
    assert "pas de Tours (Tours : 37000, 37100, 37200)" in found[2]
    assert len(found) == 3


def test_a_platform_shops_misspelt_town_and_unquoted_postcode_get_the_entries_hints(tmp_path):
    misspelt, unquoted = problems_of(
        registry(
            platform_entry('Cycles: {town: Vineuill, postcode: "41350"}\nFromages: {town: Tours, postcode: 3700}\n')
        ),
        tmp_path,
    )
    assert misspelt.startswith("sources.yaml:14: platform.shops.Cycles.town : aucune commune « Vineuill »")
    assert "voulez-vous dire Vineuil ?" in misspelt
    assert unquoted.startswith("sources.yaml:15: platform.shops.Fromages.postcode : un code postal a cinq chiffres")


def test_a_platform_shop_gives_its_town_and_postcode_together(tmp_path):
    (problem,) = problems_of(registry(platform_entry("Cycles: {town: Vineuil}\n")), tmp_path)
    assert problem.startswith("sources.yaml:14: platform.shops.Cycles : une boutique de la plateforme ailleurs")
    assert 'postcode: "41350"' in problem


def test_a_platform_shop_is_placed_at_its_towns_centre_unless_the_chamber_gives_a_point():
    (source,) = parse_registry(
        registry(
            platform_entry(
                'Cycles: {town: Vineuil, postcode: "41350"}\n'
                'Fromages: {town: Selles-sur-Cher, postcode: "41130", geo: {lat: 47.27, lon: 1.55}}\n'
                "Atelier: {address: 3 rue Denis-Papin}\n"
            )
        )
    ).sources
    shops = source.platform.shops
    vineuil = next(c for c in communes().with_postcode("41350") if c.name == "Vineuil")
    assert (shops["Cycles"].geo.lat, shops["Cycles"].geo.lon) == (vineuil.lat, vineuil.lon)
    assert shops["Cycles"].geo_is_town_centre
    assert (shops["Fromages"].geo.lat, shops["Fromages"].geo.lon) == (47.27, 1.55)
    assert not shops["Fromages"].geo_is_town_centre
    assert shops["Atelier"].geo is None  # in the platform's own town: nothing to check or fill
