"""The registry loads whole or not at all, and every problem names its line and field."""

from __future__ import annotations

import textwrap

import pytest

from crawler.registry import RegistryError, load_registry, parse_registry

GOOD = textwrap.dedent(
    """\
    # Chambre de commerce — registre des boutiques
    defaults:
      schedule: every 6h
      services: [click_and_collect]
    sources:
      - id: librairie-tours
        name: Librairie du Vieux Tours
        url: https://librairie.example.fr/
        town: Tours
        postcode: 37000
        geo: {lat: 47.3941, lon: 0.6848}
        categories: [Librairie, " papeterie "]
      - id: cave-vouvray
        name: Cave de Vouvray
        url: https://cave.example.fr
        town: Vouvray
        postcode: "37210"
        services: [delivery, gift_vouchers]
        schedule: "0 4 * * *"
    """
)


def test_valid_registry_applies_region_defaults():
    registry = parse_registry(GOOD)
    first, second = registry.sources
    assert first.schedule == "every 6h" and first.services == ["click_and_collect"]
    assert first.postcode == "37000"  # unquoted YAML number becomes the postcode string
    assert first.categories == ["librairie", "papeterie"]
    assert second.services == ["delivery", "gift_vouchers"] and second.schedule == "0 4 * * *"
    assert first.allow_private is False and first.kind is None


def test_each_problem_is_reported_with_file_line_and_field(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        GOOD
        + textwrap.indent(
            textwrap.dedent(
                """\
              - id: Fromagerie Blois
                name: Fromagerie
                url: ftp://fromagerie.example.fr
                town: Blois
                postcode: "410"
                services: [teleportation]
                couleur: rouge
              - id: librairie-tours
                name: Doublon
                url: https://doublon.example.fr
                town: Tours
                postcode: "37000"
              - name: Sans identifiant
                url: https://x.example.fr
                town: Tours
                postcode: "37000"
            """
            ),
            "  ",
        )
    )
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    problems = caught.value.problems
    assert f"{path}:20: id : minuscules, chiffres et tirets seulement (ex. « boulangerie-martin »)" in problems
    assert any(p.startswith(f"{path}:22: url : doit être une adresse http:// ou https://") for p in problems)
    assert any(p.startswith(f"{path}:24: postcode : un code postal a cinq chiffres") for p in problems)
    assert any(p.startswith(f"{path}:25: services.0 : valeur inconnue 'teleportation'") for p in problems)
    assert any(p.startswith(f"{path}:26: couleur : champ inconnu") for p in problems)
    assert any(
        p.startswith(f"{path}:27: id : l'identifiant « librairie-tours » est déjà pris (ligne 6)") for p in problems
    )
    assert any(p.startswith(f"{path}:32: id : champ obligatoire manquant") for p in problems)
    assert len(problems) == 7


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(RegistryError) as caught:
        parse_registry("sources:\n  - id: a\n    name: [unclosed\n", "reg.yaml")
    assert caught.value.problems[0].startswith("reg.yaml:")
    assert ": yaml : " in caught.value.problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "sources.yaml:1: sources : le fichier doit commencer par une liste « sources: »"),
        ("sources: 3\n", "sources.yaml:1: sources : doit être une liste d'entrées"),
        ("sources: []\nsource: []\n", "sources.yaml:2: source : clé inconnue au premier niveau"),
        ("defaults:\n  schedule: sometimes\nsources: []\n", "sources.yaml:2: defaults.schedule : attendu : « hourly »"),
    ],
)
def test_structural_problems(text, expected):
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert caught.value.problems[0].startswith(expected)


def test_missing_file_is_a_registry_error(tmp_path):
    with pytest.raises(RegistryError, match="lecture impossible"):
        load_registry(tmp_path / "absent.yaml")


def test_select_rejects_unknown_ids():
    registry = parse_registry(GOOD)
    assert [s.id for s in registry.select(["cave-vouvray"])] == ["cave-vouvray"]
    assert len(registry.select(None)) == 2
    with pytest.raises(RegistryError, match="identifiant de source inconnu : nope"):
        registry.select(["nope"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sources:\n  - id: a\n    name: A\n  url: https://a.fr/\n    town: Tours\n",
            "sources.yaml:4: yaml : l'indentation ne correspond pas à l'entrée précédente ?",
        ),
        (
            "sources:\n  - id: a\n\tname: A\n",
            "sources.yaml:3: yaml : une tabulation : YAML n'indente qu'avec des espaces",
        ),
        ('sources:\n  - id: a\n    name: "A\n', "yaml : un guillemet n'est pas refermé ?"),
        ("sources:\n  - id: a\n    name: Thé : la Boutique\n", "une valeur contient « : » et s'écrit entre guillemets"),
    ],
    ids=["indentation", "tab", "quote", "colon"],
)
def test_yaml_mistakes_are_explained_with_a_likely_cause(text, expected):
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert expected in caught.value.problems[0], caught.value.problems[0]


def test_a_field_written_in_french_gets_its_registry_name():
    text = 'sources:\n  - id: a\n    nom: A\n    url: https://a.fr/\n    ville: Tours\n    postcode: "37000"\n'
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert "sources.yaml:3: nom : champ inconnu ; voulez-vous dire « name » ? (source « a »)" in caught.value.problems
    assert "sources.yaml:5: ville : champ inconnu ; voulez-vous dire « town » ? (source « a »)" in caught.value.problems
