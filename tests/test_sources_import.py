"""``emplettes sources import FILE``: a chamber's spreadsheet of members into the registry.

Real sample shops on 127.0.x.x (a Shopify-like shop, a shop with an RSS product feed, a site
without any product), a closed port for an unreachable one; the command runs as a
subprocess, as a chamber would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from loopback import closed_port, one_page_site

from crawler.registry import load_registry
from crawler.sources_add import AddError
from crawler.sources_import import ImportFileError, import_sources, map_columns
from samples.platforms import PlatformShop, PlatformSites

HEADER = "# Registre de la chambre de commerce\n\nsources:\n  # ---- Tours\n"
EXISTING = (
    "  - id: librairie-tours\n    name: Librairie\n    url: https://librairie.example.fr/\n"
    '    town: Tours\n    postcode: "37000"\n'
)


@pytest.fixture(scope="module")
def sites():
    with PlatformSites([PlatformShop("shopify", n=12), PlatformShop("feed-rss", n=4)]) as running:
        yield running


@pytest.fixture(scope="module")
def empty_site():
    """A shop's site that answers but shows no product anywhere."""
    page = "<!doctype html><html lang=fr><head><title>Bientôt</title></head><body>Ouverture bientôt</body></html>"
    with one_page_site(page) as url:
        yield url


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(HEADER + EXISTING, encoding="utf-8")
    return path


COMMAND = [sys.executable, "-m", "emplettes.cli", "sources", "import"]


def run_import(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


def test_a_csv_from_excel_is_imported_with_a_report_per_row(sites, empty_site, registry, tmp_path):
    rows = [
        "Nom;Site web;Ville;CP;Catégories;Services;Téléphone",
        (
            f"Thés & Cafés d'Amboise;{sites.base_urls['shopify']};Amboise;37400;Épicerie fine, thé;"
            "Retrait en boutique;02 47 00 00 01"
        ),
        f"Fromages de Blois;{sites.base_urls['feed-rss']};Blois;41000;fromagerie;Livraison / chèques cadeaux;",
        "Librairie;https://www.librairie.example.fr;Tours;37000;;;",
        f"La Boutique Fermée;http://127.0.0.1:{closed_port()}/;Tours;37000;;;",
        f"Bientôt Ouvert;{empty_site};Tours;37000;;;",
        f"Mauvais Code;{sites.base_urls['shopify']}autre/;Tours;3760;;;",
        "Sans Site;;Tours;37000;;;",
        "",
    ]
    listing = tmp_path / "adherents.csv"
    listing.write_bytes("\r\n".join(rows).encode("cp1252"))  # Excel's "CSV (séparateur : point-virgule)"
    result = run_import(str(listing), "--file", str(registry), "--allow-private")
    assert result.returncode == 1, result.stderr  # some rows need a look
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ligne 2 : Thés & Cafés d'Amboise : ajoutée — shopify")
    assert lines[1].startswith("ligne 3 : Fromages de Blois : ajoutée — feed")
    assert lines[2] == "ligne 4 : Librairie : déjà inscrite — sous l'identifiant « librairie-tours »"
    assert (
        lines[3].startswith("ligne 5 : La Boutique Fermée : injoignable — ") and "connexion a été refusée" in lines[3]
    )
    assert lines[4].startswith("ligne 6 : Bientôt Ouvert : aucun produit trouvé — ")
    assert lines[5].startswith("ligne 7 : Mauvais Code : invalide — postcode : un code postal a cinq chiffres")
    assert lines[6] == "ligne 8 : Sans Site : invalide — pas d'adresse de site"
    assert "7 lignes : 2 ajoutée(s), 1 déjà inscrite(s), 4 à revoir" in result.stdout

    text = registry.read_text(encoding="utf-8")
    assert text.startswith(HEADER + EXISTING), "the chamber's comments and order are kept"
    assert "# importé de adherents.csv (ligne 2)" in text
    loaded = load_registry(registry)
    assert [s.id for s in loaded.sources] == ["librairie-tours", "thes-cafes-d-amboise", "fromages-de-blois"]
    thes, fromages = loaded.sources[1:]
    assert (thes.kind, thes.town, thes.postcode, thes.telephone) == ("shopify", "Amboise", "37400", "02 47 00 00 01")
    assert thes.categories == ["épicerie fine", "thé"] and thes.services == ["click_and_collect"]
    assert fromages.kind == "feed" and fromages.services == ["delivery", "gift_vouchers"]
    assert thes.geo is not None  # placed by the bundled communes


def test_an_xlsx_list_with_other_column_names_is_imported(sites, registry, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Enseigne", "Adresse du site", "Commune", "Code postal", "Adresse"])
    sheet.append(["Comptoir Shopify", sites.base_urls["shopify"], "Tours", 37000, "3 rue Nationale"])
    listing = tmp_path / "membres.xlsx"
    workbook.save(listing)
    result = run_import(str(listing), "--file", str(registry), "--allow-private", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    added = load_registry(registry).get("comptoir-shopify")
    assert (added.postcode, added.address, added.kind) == ("37000", "3 rue Nationale", "shopify")


def test_a_list_that_cannot_be_read_is_a_usage_error_and_the_registry_is_untouched(registry, tmp_path):
    before = registry.read_text(encoding="utf-8")
    broken = tmp_path / "cassé.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    no_site = tmp_path / "sans-site.csv"
    no_site.write_text("Nom;Ville\nBoulangerie;Tours\n", encoding="utf-8")
    for target, words in (
        (tmp_path / "absente.csv", "n'existe pas"),
        (tmp_path, "est un dossier"),
        (broken, "n'est pas un classeur .xlsx lisible"),
        (no_site, "aucune colonne de site parmi « Nom », « Ville »"),
    ):
        result = run_import(str(target), "--file", str(registry))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("sources import : ") and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert registry.read_text(encoding="utf-8") == before


def test_nothing_is_written_when_the_registry_is_invalid_or_changed_meanwhile(sites, registry, tmp_path):
    listing = tmp_path / "liste.csv"
    listing.write_text(
        f"nom,url,ville,code postal\nBoutique,{sites.base_urls['shopify']},Tours,37000\n", encoding="utf-8"
    )
    invalid = tmp_path / "invalide.yaml"
    invalid.write_text("sources:\n  - id: x\n    name: X\n", encoding="utf-8")
    with pytest.raises(AddError, match="ne se charge pas"):
        import_sources(listing, invalid, allow_private=True)
    assert invalid.read_text(encoding="utf-8") == "sources:\n  - id: x\n    name: X\n"

    result = import_sources(listing, registry, allow_private=True)
    assert [r.outcome for r in result.rows] == ["added"]
    registry.write_text(registry.read_text(encoding="utf-8") + "  # une modification de la chambre\n")
    edited = registry.read_text(encoding="utf-8")
    with pytest.raises(AddError, match="a été modifié pendant la détection"):
        result.write()
    assert registry.read_text(encoding="utf-8") == edited
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sources.yaml.")], "no temporary file left"


def test_column_names_are_matched_whatever_their_case_accents_and_spacing():
    mapping = map_columns(["  NOM ", "Site Internet", "Localité", "Code_Postal", "Téléphone", "Catégorie"])
    assert mapping == {"name": 0, "url": 1, "town": 2, "postcode": 3, "telephone": 4, "categories": 5}
    with pytest.raises(ImportFileError, match="aucune colonne de site"):
        map_columns(["Nom", "Ville"])


def test_on_a_terminal_a_progress_bar_follows_the_rows(sites, registry, tmp_path):
    listing = tmp_path / "liste.csv"
    listing.write_text(
        f"nom,site,ville,cp\nUn,{sites.base_urls['shopify']},Tours,37000\nDeux,{sites.base_urls['feed-rss']},Blois,41000\n",
        encoding="utf-8",
    )
    leader, follower = os.openpty()  # stderr is a terminal: the bar is drawn there
    try:
        result = subprocess.run(
            [*COMMAND, str(listing), "--file", str(registry), "--allow-private", "--yes"],
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=300,
        )
        os.set_blocking(leader, False)
        drawn = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert result.returncode == 0, result.stdout + drawn
    assert "\r[" in drawn and "] 1/2 Deux" in drawn and "] 2/2" in drawn
    assert "[" not in result.stdout.splitlines()[0]  # the report itself has no bar
