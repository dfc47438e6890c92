"""A regional catalogue for relevance work: shops of Centre-Val de Loire and their products.

Hand-written vocabularies (towns with their real postcodes and coordinates, shops, and per
trade the products such a shop sells) drawn from with a seeded generator, so every run
builds the same catalogue. The records are the crawler's: ``ShopRecord``/``ProductRecord``
dumped as JSON, which ``bench/relevance.py`` writes as run files and loads with
``indexer.load.load_run``, the path a crawl takes.

The traps of issue 17 are in on purpose: a « Poêle à bois » and a « Domaine des Bois » wine
beside wooden toys, a stoneware bowl whose glaze is « émail miel », a « sous-bois » cheese,
no soap anywhere (but a « bière de saison » and « bouquet de saison »), a 5 290 € espresso
machine in Tours, « pâtes » beside « pâté », brands that are common words (« Aigle »,
« Moustache », « Poulain »), shop names holding product words (« Le Cheval de Bois »,
« Le Pot de Miel », « Le Moulin à Café ») and the same products in several towns.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from indexer.records import ProductRecord, ShopRecord

SEED = 17
RUN_ID = "20261201T060000Z-rel0"
LAST_SEEN = "2026-12-01T06:00:00Z"


@dataclass(frozen=True)
class Town:
    name: str
    postcode: str
    lat: float
    lon: float


# Communes of Centre-Val de Loire: postcode and the town centre's coordinates.
TOWNS: dict[str, Town] = {
    t.name: t
    for t in (
        Town("Tours", "37000", 47.3936, 0.6892),
        Town("Joué-lès-Tours", "37300", 47.3514, 0.6664),
        Town("Saint-Avertin", "37550", 47.3636, 0.7389),
        Town("Vouvray", "37210", 47.4111, 0.7989),
        Town("Amboise", "37400", 47.4125, 0.9825),
        Town("Chinon", "37500", 47.1675, 0.2422),
        Town("Loches", "37600", 47.1286, 0.9953),
        Town("Bourgueil", "37140", 47.2825, 0.1686),
        Town("Blois", "41000", 47.5861, 1.3359),
        Town("Vendôme", "41100", 47.7928, 1.0656),
        Town("Romorantin-Lanthenay", "41200", 47.3589, 1.7417),
        Town("Orléans", "45000", 47.9025, 1.9090),
        Town("Olivet", "45160", 47.8633, 1.9006),
        Town("Saint-Jean-de-Braye", "45800", 47.9128, 1.9711),
        Town("Montargis", "45200", 47.9975, 2.7331),
        Town("Gien", "45500", 47.6881, 2.6303),
        Town("Pithiviers", "45300", 48.1719, 2.2519),
        Town("Chartres", "28000", 48.4439, 1.4890),
        Town("Dreux", "28100", 48.7372, 1.3664),
        Town("Bourges", "18000", 47.0811, 2.3994),
        Town("Vierzon", "18100", 47.2219, 2.0686),
        Town("Sancerre", "18300", 47.3317, 2.8367),
        Town("Saint-Amand-Montrond", "18200", 46.7228, 2.5050),
        Town("Châteauroux", "36000", 46.8103, 1.6911),
        Town("Issoudun", "36100", 46.9481, 1.9933),
    )
}


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    town: str
    trade: str
    services: tuple[str, ...] = ()
    description: str = ""


C, D, G = "click_and_collect", "delivery", "gift_vouchers"

SHOPS: tuple[Shop, ...] = (
    # Tours and its suburbs
    Shop("boulangerie-rabelais", "Boulangerie Rabelais", "Tours", "boulangerie", (C,)),
    Shop("fromagerie-des-halles", "La Fromagerie des Halles", "Tours", "fromagerie", (C, G)),
    Shop("cave-plumereau", "Cave Plumereau", "Tours", "caviste", (C, D, G)),
    Shop("la-boite-a-livres", "La Boîte à Livres", "Tours", "librairie", (C, G)),
    Shop("jouets-de-leonie", "Les Jouets de Léonie", "Tours", "jouets", (C, D)),
    Shop("brulerie-des-halles", "Brûlerie des Halles", "Tours", "torrefacteur", (C, D, G)),
    Shop("chocolaterie-tourangelle", "La Chocolaterie Tourangelle", "Tours", "chocolatier", (C, G)),
    Shop("au-bon-rillon", "Boucherie Au Bon Rillon", "Tours", "boucherie", (C,)),
    Shop("poissonnerie-de-la-loire", "Poissonnerie de la Loire", "Tours", "poissonnerie", (C,)),
    Shop("bijouterie-rue-nationale", "Bijouterie de la Rue Nationale", "Tours", "bijouterie", (G,)),
    Shop("la-mousse-tourangelle", "La Mousse Tourangelle", "Tours", "bieres", (C, D)),
    Shop("cordonnerie-colbert", "Cordonnerie Colbert", "Tours", "cordonnerie", ()),
    Shop("velo-loire-tours", "Vélo Loire", "Tours", "velo", (C, G)),
    Shop("papeterie-grand-marche", "Papeterie du Grand Marché", "Tours", "papeterie", (C, D)),
    Shop("maison-lemoine", "Maison Lemoine", "Tours", "vetements", (C, D, G)),
    Shop("tours-menager", "Tours Ménager Services", "Tours", "electromenager", (D,)),
    Shop("chaussures-breton", "Chaussures Breton", "Tours", "chaussures", (C,)),
    Shop("l-atelier-floral", "L'Atelier Floral", "Tours", "fleuriste", (C, D)),
    Shop("rucher-de-saint-avertin", "Le Rucher de Saint-Avertin", "Saint-Avertin", "miellerie", (C, D)),
    Shop("l-epicerie-tourangelle", "L'Épicerie Tourangelle", "Joué-lès-Tours", "epicerie", (C, D, G)),
    Shop("cave-des-bulles", "La Cave des Bulles", "Vouvray", "caviste", (C, D)),
    # Amboise, Chinon, Loches, Bourgueil
    Shop("chandellerie-d-amboise", "La Chandellerie d'Amboise", "Amboise", "luminaires", (C, D, G)),
    Shop("quincaillerie-leonard", "Quincaillerie Léonard", "Amboise", "quincaillerie", (C,)),
    Shop("le-comptoir-d-amboise", "Le Comptoir d'Amboise", "Amboise", "epicerie", (C, G)),
    Shop("amboise-cycles", "Amboise Cycles", "Amboise", "velo", (C,)),
    Shop("le-chai-de-chinon", "Le Chai de Chinon", "Chinon", "caviste", (C, D)),
    Shop("atelier-lumiere-chinon", "L'Atelier Lumière", "Chinon", "luminaires", (C,)),
    Shop("boulangerie-cite-royale", "Boulangerie de la Cité Royale", "Loches", "boulangerie", ()),
    Shop("le-pot-de-miel", "Le Pot de Miel", "Loches", "ceramique", (C, G)),
    Shop("caveau-de-bourgueil", "Le Caveau de Bourgueil", "Bourgueil", "caviste", (C, D)),
    # Blois, Vendôme, Romorantin
    Shop("fromagerie-du-chateau", "Fromagerie du Château", "Blois", "fromagerie", (C,)),
    Shop("cellier-blesois", "Le Cellier Blésois", "Blois", "caviste", (C, G)),
    Shop("le-carre-blesois", "Le Carré Blésois", "Blois", "chocolatier", (C, D, G)),
    Shop("librairie-des-remparts", "Librairie des Remparts", "Blois", "librairie", (C, G)),
    Shop("maroquinerie-denis-papin", "Maroquinerie Denis-Papin", "Blois", "maroquinerie", (G,)),
    Shop("l-encrier-blesois", "L'Encrier Blésois", "Blois", "papeterie", (C,)),
    Shop("cycles-de-la-loire", "Cycles de la Loire", "Blois", "velo", (C, D)),
    Shop("aux-saveurs-de-blois", "Aux Saveurs de Blois", "Blois", "epicerie", (C, D)),
    Shop("librairie-du-loir", "Librairie du Loir", "Vendôme", "librairie", (C,)),
    Shop("mercerie-de-la-trinite", "Mercerie de la Trinité", "Vendôme", "mercerie", (C,)),
    Shop("miellerie-de-sologne", "Miellerie de Sologne", "Romorantin-Lanthenay", "miellerie", (C, D, G)),
    Shop("chausserie-de-sologne", "La Chausserie de Sologne", "Romorantin-Lanthenay", "chaussures", (C,)),
    # Orléans and around
    Shop("le-cheval-de-bois", "Le Cheval de Bois", "Orléans", "jouets", (C, D, G)),
    Shop("comptoirs-de-jeanne", "Les Comptoirs de Jeanne", "Orléans", "epicerie", (C, D, G)),
    Shop("fromagerie-d-olivet", "Fromagerie d'Olivet", "Olivet", "fromagerie", (C,)),
    Shop("librairie-du-martroi", "Librairie du Martroi", "Orléans", "librairie", (C, D, G)),
    Shop("chocolats-et-cotignac", "Chocolats & Cotignac", "Orléans", "chocolatier", (C, G)),
    Shop("maree-d-orleans", "Marée d'Orléans", "Orléans", "poissonnerie", (C,)),
    Shop("le-moulin-a-cafe", "Le Moulin à Café", "Orléans", "torrefacteur", (C, D)),
    Shop("l-ecrin-d-orleans", "L'Écrin d'Orléans", "Orléans", "bijouterie", (G,)),
    Shop("le-fil-a-retordre", "Le Fil à Retordre", "Orléans", "mercerie", (C, D)),
    Shop("le-houblon-orleanais", "Le Houblon Orléanais", "Saint-Jean-de-Braye", "bieres", (C, D)),
    Shop("cordonnerie-bannier", "Cordonnerie Bannier", "Orléans", "cordonnerie", ()),
    Shop("l-etoffe", "L'Étoffe", "Orléans", "vetements", (C, G)),
    Shop("fleurs-de-loire", "Fleurs de Loire", "Orléans", "fleuriste", (C, D)),
    Shop("miel-du-gatinais", "Le Miel du Gâtinais", "Montargis", "miellerie", (C, D)),
    Shop("quincaillerie-des-canaux", "Quincaillerie des Canaux", "Montargis", "quincaillerie", (C,)),
    Shop("droguerie-montargoise", "Droguerie Montargoise", "Montargis", "droguerie", (C,)),
    Shop("confiserie-du-pralin", "Confiserie du Pralin", "Montargis", "chocolatier", (C, G)),
    Shop("faiences-de-la-loire", "Faïences de la Loire", "Gien", "ceramique", (C, D, G)),
    Shop("patisserie-du-pithiviers", "Pâtisserie du Pithiviers", "Pithiviers", "boulangerie", (C,)),
    # Eure-et-Loir
    Shop("boulangerie-cathedrale", "Boulangerie de la Cathédrale", "Chartres", "boulangerie", (C,)),
    Shop("la-toupie-chartraine", "La Toupie Chartraine", "Chartres", "jouets", (C, G)),
    Shop("ruchers-de-beauce", "Les Ruchers de Beauce", "Chartres", "miellerie", (C, D)),
    Shop("boucherie-chartraine", "Boucherie Chartraine", "Chartres", "boucherie", (C,)),
    Shop("le-panier-beauceron", "Le Panier Beauceron", "Chartres", "epicerie", (C, D, G)),
    Shop("bijouterie-vitrail", "Bijouterie Vitrail", "Chartres", "bijouterie", (G,)),
    Shop("papeterie-drouaise", "Papeterie Drouaise", "Dreux", "papeterie", (C,)),
    Shop("droguerie-du-beffroi", "Droguerie du Beffroi", "Dreux", "droguerie", (C,)),
    Shop("electro-dreux", "Électro Dreux", "Dreux", "electromenager", (C, D)),
    # Cher and Indre
    Shop("cremerie-jacques-coeur", "Crèmerie Jacques-Cœur", "Bourges", "fromagerie", (C, G)),
    Shop("palais-des-gourmandises", "Le Palais des Gourmandises", "Bourges", "chocolatier", (C, G)),
    Shop("gres-de-la-borne", "Galerie des Grès de La Borne", "Bourges", "ceramique", (G,)),
    Shop("brulerie-berrichonne", "Brûlerie Berrichonne", "Bourges", "torrefacteur", (C,)),
    Shop("la-chope-berruyere", "La Chope Berruyère", "Bourges", "bieres", (C,)),
    Shop("l-epicerie-du-berry", "L'Épicerie du Berry", "Bourges", "epicerie", (C, D)),
    Shop("porcelaines-de-vierzon", "Porcelaines de Vierzon", "Vierzon", "ceramique", (C, G)),
    Shop("quincaillerie-vierzonnaise", "Quincaillerie Vierzonnaise", "Vierzon", "quincaillerie", (C, D)),
    Shop("cycles-du-cher", "Cycles du Cher", "Vierzon", "velo", (C,)),
    Shop("fromagerie-des-monts-damnes", "Fromagerie des Monts Damnés", "Sancerre", "fromagerie", (C, D)),
    Shop("orfevrerie-du-cher", "Orfèvrerie du Cher", "Saint-Amand-Montrond", "bijouterie", (G,)),
    Shop("boucherie-berrichonne", "Boucherie Berrichonne", "Châteauroux", "boucherie", (C,)),
    Shop("au-jardin-d-isabelle", "Au Jardin d'Isabelle", "Châteauroux", "fleuriste", (C, D)),
    Shop("cuirs-du-berry", "Cuirs du Berry", "Châteauroux", "maroquinerie", (C, G)),
    Shop("cordonnerie-grande-rue", "Cordonnerie de la Grande Rue", "Châteauroux", "cordonnerie", ()),
    Shop("chaussures-victoire", "Chaussures Victoire", "Châteauroux", "chaussures", (C, D)),
    Shop("mercerie-balzac", "Mercerie Balzac", "Issoudun", "mercerie", (C,)),
    Shop("le-rucher-d-issoudun", "Le Rucher d'Issoudun", "Issoudun", "miellerie", (C,)),
)


@dataclass(frozen=True)
class Item:
    """What a shop of a trade may sell: name, declared category, description, brand, price."""

    name: str
    category: str
    description: str
    brand: str | None
    price: float


@dataclass(frozen=True)
class Trade:
    categories: tuple[str, ...]  # the shop's registry categories
    items: tuple[Item, ...]
    # (suffix of the name, price factor): the formats a product comes in
    variants: tuple[tuple[str, float], ...] = (("", 1.0),)
    per_shop: tuple[int, int] = (32, 46)


def _items(category: str, *rows: tuple[str, str, str | None, float]) -> tuple[Item, ...]:
    return tuple(Item(name, category, description, brand, price) for name, description, brand, price in rows)


TRADES: dict[str, Trade] = {
    "boulangerie": Trade(
        ("Boulangerie", "Pâtisserie"),
        _items(
            "Pains",
            ("Baguette tradition", "Farine Label Rouge, pétrie lentement et cuite sur sole.", None, 1.3),
            ("Pain de campagne au levain", "Levain naturel, croûte épaisse, se garde quatre jours.", None, 4.2),
            ("Pain complet", "Farine complète de Beauce, riche en fibres.", None, 3.6),
            ("Pain aux noix", "Cerneaux de noix du Périgord, idéal avec les fromages.", None, 4.8),
            ("Pain de seigle", "Seigle et levain, mie dense.", None, 4.0),
            ("Fougasse aux olives", "Olives vertes et noires, huile d'olive.", None, 3.9),
            ("Pain d'épices au miel", "Miel de fleurs, épices douces, tranché.", None, 6.5),
        )
        + _items(
            "Viennoiseries",
            ("Croissant au beurre", "Beurre AOP Charentes-Poitou, feuilletage maison.", None, 1.2),
            ("Pain au chocolat", "Deux barres de chocolat noir.", None, 1.3),
            ("Brioche tressée", "Brioche pur beurre, sucre perlé.", None, 6.9),
            ("Chausson aux pommes", "Compote de pommes de Touraine.", None, 1.9),
        )
        + _items(
            "Pâtisseries",
            ("Tarte Tatin", "Pommes caramélisées, pâte brisée, spécialité de Lamotte-Beuvron.", None, 18.0),
            ("Pithiviers feuilleté", "Galette feuilletée à la crème d'amandes, spécialité du Loiret.", None, 19.5),
            ("Galette des rois frangipane", "Feuilletage pur beurre, fève en porcelaine.", None, 22.0),
            ("Éclair au café", "Pâte à choux, crème pâtissière au café.", None, 3.2),
            ("Nougat de Tours", "Pâte sablée, fruits confits et macaron, recette tourangelle.", None, 16.0),
            ("Crêpes au sucre", "Crêpes de froment, sachet de six.", None, 5.5),
            ("Macarons assortis", "Boîte de douze, parfums de saison.", None, 14.0),
        ),
        (("", 1.0), ("grand format", 1.8), ("par 4", 3.6)),
        (36, 46),
    ),
    "fromagerie": Trade(
        ("Fromagerie", "Crèmerie"),
        _items(
            "Fromages de chèvre",
            ("Sainte-Maure-de-Touraine AOP", "Bûche cendrée traversée d'une paille de seigle.", None, 8.5),
            ("Selles-sur-Cher AOP", "Chèvre cendré au lait cru, croûte fine.", None, 5.8),
            ("Valençay AOP", "Pyramide tronquée cendrée, lait cru de chèvre.", None, 7.9),
            ("Pouligny-Saint-Pierre AOP", "La « tour Eiffel » du Berry, pâte fine et acidulée.", None, 9.2),
            ("Crottin de Chavignol AOP", "Petit chèvre du Sancerrois, sec ou demi-sec.", None, 3.4),
            ("Chèvre frais aux herbes", "Fromage frais de chèvre, ciboulette et ail.", None, 4.5),
        )
        + _items(
            "Fromages à pâte molle",
            ("Olivet cendré", "Fromage de vache affiné sous la cendre, spécialité orléanaise.", None, 6.9),
            ("Brie de Meaux AOP", "Au lait cru, affiné quatre semaines.", None, 7.5),
            ("Camembert de Normandie AOP", "Moulé à la louche, lait cru.", None, 5.9),
            ("Feuille de Dreux", "Pâte molle de vache affinée sous une feuille de châtaignier.", None, 6.4),
            ("Le Sous-Bois", "Tomme fermière affinée sur litière de feuilles, goût de champignon.", None, 9.8),
            ("Coulommiers fermier", "Pâte fondante, croûte fleurie.", None, 6.2),
        )
        + _items(
            "Fromages à pâte pressée",
            ("Comté AOP 18 mois", "Fruité et long en bouche, meule du Jura.", None, 7.9),
            ("Beaufort d'été AOP", "Lait de montagne, notes florales.", None, 8.9),
            ("Tomme de Savoie IGP", "Pâte souple, croûte grise.", None, 5.6),
            ("Mimolette extra-vieille", "Affinée 18 mois, croquante.", None, 6.8),
        )
        + _items(
            "Fromages à pâte persillée",
            ("Roquefort AOP", "Lait cru de brebis, affiné en caves.", None, 7.2),
            ("Fourme d'Ambert AOP", "Persillé doux du Livradois.", None, 5.4),
        )
        + _items(
            "Crèmerie",
            ("Beurre demi-sel de baratte", "Beurre cru baratté à l'ancienne.", None, 4.6),
            ("Crème fraîche épaisse", "Crème crue de la ferme.", None, 3.9),
            ("Plateau de fromages de Loire", "Cinq fromages du Centre, pour six personnes.", None, 34.0),
        ),
        (("", 1.0), ("250 g", 0.9), ("500 g", 1.7), ("fermier", 1.2)),
        (45, 60),
    ),
    "caviste": Trade(
        ("Caviste",),
        _items(
            "Vins rouges",
            (
                "Chinon rouge Les Picasses",
                "Cabernet franc, vieilles vignes, tanins soyeux.",
                "Domaine Olga Raffault",
                15.5,
            ),
            ("Chinon rouge cuvée des Varennes", "Cabernet franc sur graves, fruit croquant.", "Domaine Baudry", 13.9),
            (
                "Bourgueil rouge Les Cent Boisselées",
                "Cabernet franc, fruits noirs, garde.",
                "Domaine Yannick Amirault",
                17.0,
            ),
            ("Saint-Nicolas-de-Bourgueil", "Rouge gourmand sur sables et graviers.", "Domaine Mabileau", 12.0),
            ("Touraine Gamay", "Rouge léger et fruité, à servir frais.", "Domaine des Bois Vaudons", 8.9),
            ("Sancerre rouge", "Pinot noir du Sancerrois.", "Domaine Vacheron", 24.0),
            ("Cheverny rouge", "Pinot noir et gamay.", "Domaine du Salvard", 11.5),
        )
        + _items(
            "Vins blancs",
            ("Vouvray sec", "Chenin sur tuffeau, minéral et tendu.", "Domaine Huet", 22.0),
            ("Vouvray demi-sec", "Chenin, notes de coing et de miel.", "Domaine des Aubuisières", 16.0),
            ("Montlouis-sur-Loire sec", "Chenin de coteaux, fraîcheur.", "Domaine de la Taille aux Loups", 19.0),
            ("Sancerre blanc", "Sauvignon sur silex, agrumes.", "Domaine Vacheron", 21.0),
            ("Touraine Sauvignon", "Sauvignon vif, notes de buis.", "Domaine des Bois Vaudons", 8.5),
            ("Cour-Cheverny Romorantin", "Cépage romorantin, rare et ample.", "Domaine Philippe Tessier", 14.5),
        )
        + _items(
            "Vins effervescents",
            ("Vouvray pétillant brut", "Méthode traditionnelle, bulles fines.", "Domaine Huet", 17.5),
            ("Crémant de Loire brut", "Chenin et chardonnay, apéritif.", "Maison Langlois", 12.9),
            ("Montlouis pétillant naturel", "Pet-nat de chenin, non filtré.", "Domaine de la Taille aux Loups", 18.0),
        )
        + _items(
            "Vins rosés",
            ("Touraine rosé", "Gamay et côt, frais et fruité.", "Domaine des Bois Vaudons", 8.2),
            ("Chinon rosé", "Cabernet franc en saignée.", "Domaine Baudry", 11.0),
        )
        + _items(
            "Spiritueux",
            ("Poire Williams de Loire", "Eau-de-vie de poire, 40 %.", None, 36.0),
            ("Cointreau", "Liqueur d'écorces d'oranges, Saint-Barthélemy-d'Anjou.", "Cointreau", 28.0),
        )
        + _items(
            "Accessoires du vin",
            ("Tire-bouchon limonadier", "Double levier, manche en bois d'olivier.", "Laguiole", 39.0),
            ("Carafe à décanter", "Verre soufflé, 1,5 L.", None, 45.0),
        ),
        (("", 1.0), ("75 cl", 1.0), ("magnum 150 cl", 2.2), ("carton de 6", 5.7)),
        (45, 60),
    ),
    "librairie": Trade(
        ("Librairie",),
        _items(
            "Romans",
            ("Le Lys dans la vallée", "Honoré de Balzac, roman tourangeau, poche.", "Folio", 6.9),
            ("Gargantua", "François Rabelais, édition bilingue.", "Points", 8.4),
            ("Le Grand Meaulnes", "Alain-Fournier, la Sologne de l'enfance.", "Le Livre de Poche", 5.9),
            ("Madame Bovary", "Gustave Flaubert, texte intégral.", "Folio", 7.2),
            ("L'Étranger", "Albert Camus.", "Folio", 7.5),
            ("Le Petit Prince", "Antoine de Saint-Exupéry, aquarelles de l'auteur.", "Gallimard", 8.9),
        )
        + _items(
            "Beaux livres",
            ("Les châteaux de la Loire", "Photographies, 240 pages, relié.", "Éditions Ouest-France", 35.0),
            ("La Loire à vélo, le guide", "Itinéraires de Cuffy à Saint-Brevin.", "Chamina", 16.9),
            ("Jardins de Villandry", "Histoire du potager décoratif.", None, 29.0),
        )
        + _items(
            "Livres de cuisine",
            ("La cuisine de Touraine", "Rillettes, géline, nougat : recettes de famille.", None, 24.0),
            ("Le grand livre des fromages", "Trois cents fromages de France.", "Larousse", 29.9),
            ("Le miel, recettes et bienfaits", "Cuisiner le miel, de l'apéritif au dessert.", None, 19.9),
            ("Pâtes fraîches maison", "Tagliatelles, raviolis et gnocchis pas à pas.", "Marabout", 15.9),
        )
        + _items(
            "Jeunesse",
            ("Le loup qui voulait changer de couleur", "Album dès 3 ans.", "Auzou", 6.5),
            ("Harry Potter à l'école des sorciers", "J. K. Rowling, tome 1.", "Gallimard Jeunesse", 8.9),
            ("Mon imagier des animaux de la forêt", "Imagier cartonné, animaux des bois.", None, 12.5),
        )
        + _items(
            "Bandes dessinées",
            ("Astérix chez les Bretons", "Goscinny et Uderzo.", "Albert René", 10.95),
            ("Blake et Mortimer, La Marque jaune", "Edgar P. Jacobs.", "Dargaud", 16.95),
            ("Les Vieux Fourneaux", "Lupano et Cauuet, tome 1.", "Dargaud", 12.0),
        ),
        (("", 1.0), ("édition collector", 2.4)),
        (18, 30),
    ),
    "jouets": Trade(
        ("Jouets",),
        _items(
            "Jouets en bois",
            ("Toupie en bois", "Hêtre massif tourné, peinture à l'eau.", "Vilac", 7.5),
            ("Cheval à bascule en bois", "Bois massif peint à la main, dès 2 ans.", "Vilac", 189.0),
            ("Train en bois", "Locomotive et trois wagons aimantés.", "Janod", 34.9),
            ("Cubes en bois", "Trente cubes colorés, sac en coton.", "Moulin Roty", 24.0),
            ("Puzzle en bois des animaux", "Encastrement, dix pièces.", "Janod", 15.9),
            ("Cuisine en bois pour enfant", "Four, évier et ustensiles.", "Janod", 129.0),
            ("Jeu de quilles en bois", "Neuf quilles et deux boules.", "Vilac", 29.0),
        )
        + _items(
            "Jeux de société",
            ("Carcassonne", "Jeu de plateau, 2 à 5 joueurs, dès 7 ans.", "Z-Man Games", 29.9),
            ("Dixit", "Jeu d'ambiance illustré.", "Libellud", 32.0),
            ("Mille Bornes", "Le jeu de cartes de la route.", "Dujardin", 19.9),
            ("Dobble", "Jeu d'observation et de rapidité.", "Asmodee", 14.9),
        )
        + _items(
            "Poupées et peluches",
            ("Poupée de chiffon", "Coton bio, cousue main.", "Moulin Roty", 32.0),
            ("Peluche ours", "Ours en peluche tout doux, 30 cm.", "Jellycat", 27.0),
            ("Doudou lapin", "Doudou plat, lavable.", "Moulin Roty", 19.0),
        )
        + _items(
            "Jouets",
            ("Playmobil Château fort", "Château et chevaliers, dès 5 ans.", "Playmobil", 89.0),
            ("Lego Classic boîte de briques", "Briques de construction créative.", "Lego", 34.99),
            ("Trottinette trois roues", "Dès 3 ans, guidon réglable.", "Micro", 79.0),
            ("Cerf-volant", "Voile en nylon, armature légère.", None, 22.0),
        ),
        (("", 1.0),),
        (17, 21),
    ),
    "quincaillerie": Trade(
        ("Quincaillerie",),
        _items(
            "Chauffage",
            ("Poêle à bois en fonte", "Puissance 8 kW, vitre autonettoyante, bûches de 50 cm.", "Invicta", 1290.0),
            ("Poêle à granulés", "9 kW, programmable.", "Invicta", 1890.0),
            ("Allume-feu naturel", "Laine de bois et cire, 50 pièces.", None, 6.9),
            ("Serviteur de cheminée", "Pelle, pince, balai et tisonnier en fer forgé.", None, 59.0),
            ("Panier à bûches", "Osier tressé, pour le bois de chauffage.", None, 39.0),
        )
        + _items(
            "Outillage",
            ("Marteau de charpentier", "Manche en bois de frêne.", "Stanley", 24.9),
            ("Scie égoïne", "Lame de 500 mm pour le bois.", "Bahco", 21.0),
            ("Tournevis plat", "Jeu de six, manche bi-matière.", "Facom", 29.0),
            ("Perceuse-visseuse sans fil", "18 V, deux batteries.", "Makita", 169.0),
            ("Mètre ruban", "5 m, boîtier antichoc.", "Stanley", 12.5),
        )
        + _items(
            "Quincaillerie",
            ("Vis à bois", "Boîte de 200, tête fraisée.", None, 8.9),
            ("Cadenas en laiton", "Deux clés, anse acier.", "Abus", 14.0),
            ("Colle à bois", "Vinylique, prise rapide.", "Sader", 7.5),
            ("Huile de lin pour le bois", "Nourrit et protège les bois extérieurs.", None, 13.9),
        )
        + _items(
            "Jardin",
            ("Sécateur à lames croisées", "Coupe nette jusqu'à 22 mm.", "Felco", 54.0),
            ("Arrosoir en zinc", "10 litres, pomme en laiton.", "Guillouard", 49.0),
            ("Couteau pliant n°8", "Lame inox, manche en hêtre.", "Opinel", 12.9),
        ),
        (("", 1.0),),
        (15, 19),
    ),
    "fleuriste": Trade(
        ("Fleuriste",),
        _items(
            "Bouquets",
            ("Bouquet de saison", "Composé selon l'arrivage du jour.", None, 35.0),
            ("Bouquet de roses rouges", "Roses du Val de Loire, tiges longues.", None, 45.0),
            ("Bouquet champêtre", "Fleurs des champs, style bohème.", None, 32.0),
            ("Bouquet de pivoines", "En saison, de mai à juin.", None, 39.0),
            ("Bouquet de mariée", "Sur rendez-vous, fleurs blanches.", None, 120.0),
        )
        + _items(
            "Plantes",
            ("Orchidée blanche", "Phalaenopsis deux tiges, cache-pot.", None, 29.0),
            ("Olivier en pot", "Olivier de 1,20 m.", None, 79.0),
            ("Cactus en pot de terre cuite", "Petit cactus facile d'entretien.", None, 9.9),
            ("Lavande en pot", "Lavande vraie, parfumée.", None, 7.5),
        )
        + _items(
            "Fleurs séchées",
            ("Couronne de fleurs séchées", "Hortensias et graminées.", None, 42.0),
            ("Bouquet de lavande séchée", "Lavande de Provence.", None, 12.0),
        ),
        (("", 1.0), ("grand modèle", 1.6)),
        (15, 22),
    ),
    "epicerie": Trade(
        ("Épicerie fine",),
        _items(
            "Huiles et vinaigres",
            ("Huile d'olive vierge extra", "Première pression à froid, Provence.", "Moulin Castelas", 18.0),
            ("Huile de noix", "Noix de Touraine pressées au moulin.", "Huilerie Leblanc", 14.5),
            ("Vinaigre de cidre", "Vinaigre fermier non filtré.", None, 4.9),
            ("Vinaigre balsamique de Modène", "Vieilli en fûts de chêne.", None, 11.0),
        )
        + _items(
            "Miels",
            ("Miel de Sologne", "Miel de bruyère et de forêt, 500 g.", None, 11.5),
            ("Miel d'acacia", "Miel liquide et doux, 250 g.", None, 8.9),
            ("Coffret cadeau miels de Loire", "Trois miels de la région et une cuillère en bois.", None, 29.0),
        )
        + _items(
            "Confitures",
            ("Confiture de fraises", "Fraises gariguettes, cuite au chaudron.", "Bonne Maman", 4.5),
            ("Confiture d'abricots", "Abricots du Roussillon.", "Bonne Maman", 4.5),
            ("Gelée de coings", "Coings du verger, recette de grand-mère.", None, 6.2),
            ("Confiture de lait", "Lait entier et sucre de canne.", None, 6.9),
        )
        + _items(
            "Pâtes et riz",
            ("Pâtes artisanales tagliatelles", "Blé dur de Beauce, séchées lentement.", "Pâtes Lucie", 4.9),
            ("Pâtes aux œufs frais", "Coquillettes aux œufs de plein air.", "Pâtes Lucie", 3.9),
            ("Riz de Camargue complet", "IGP, 1 kg.", None, 5.2),
        )
        + _items(
            "Biscuits et douceurs",
            ("Crêpes dentelle", "Crêpes dentelle pur beurre de Bretagne.", "Gavottes", 4.2),
            ("Sablés au beurre", "Biscuits sablés de Nançay.", "Sablés de Nançay", 5.8),
            ("Nougat au miel", "Nougat tendre aux amandes et au miel de lavande.", None, 7.9),
            ("Cotignac d'Orléans", "Confiserie de coings en boîte ronde.", None, 6.5),
            ("Pralines de Montargis", "Amandes caramélisées.", "Mazet", 9.9),
        )
        + _items(
            "Épices et condiments",
            ("Moutarde à l'ancienne", "Graines de moutarde et vinaigre.", None, 4.2),
            ("Fleur de sel de Guérande", "Récoltée à la main.", None, 6.5),
            ("Poivre de Kampot", "Poivre noir du Cambodge.", None, 12.9),
            ("Safran du Gâtinais", "Pistils de safran, 0,5 g.", None, 17.0),
        )
        + _items(
            "Conserves",
            ("Rillettes de Tours", "Rillettes de porc cuites au chaudron, bocal.", None, 7.9),
            ("Terrine de gibier de Sologne", "Terrine de chevreuil.", None, 8.9),
            ("Sardines à l'huile d'olive", "Millésimées.", "La Belle-Iloise", 6.5),
        )
        + _items(
            "Thés",
            ("Thé vert Sencha", "Thé vert du Japon.", "Kusmi Tea", 14.0),
            ("Thé noir Earl Grey", "Bergamote de Calabre.", "Mariage Frères", 16.0),
        ),
        (("", 1.0), ("format familial", 1.8)),
        (50, 62),
    ),
    "miellerie": Trade(
        ("Miellerie", "Apiculteur"),
        _items(
            "Miels",
            ("Miel de fleurs", "Miel crémeux toutes fleurs de nos ruches.", None, 9.5),
            ("Miel d'acacia", "Miel liquide, très doux, se cristallise peu.", None, 11.0),
            ("Miel de châtaignier", "Miel ambré, goût corsé.", None, 10.5),
            ("Miel de tilleul", "Notes mentholées.", None, 10.5),
            ("Miel de colza crémeux", "Miel blanc et onctueux de Beauce.", None, 8.5),
            ("Miel de bruyère", "Miel de Sologne, ambré et puissant.", None, 12.0),
            ("Miel de sarrasin", "Miel brun, très typé.", None, 11.5),
            ("Miel du Gâtinais", "Miel de sainfoin et de luzerne, réputé depuis le Moyen Âge.", None, 12.5),
            ("Miel en rayon", "Cadre de cire operculée.", None, 16.0),
        )
        + _items(
            "Produits de la ruche",
            ("Pollen frais", "Pelotes de pollen congelées.", None, 14.0),
            ("Propolis en spray", "Extrait de propolis, gorge.", None, 12.0),
            ("Gelée royale", "Pot de 10 g.", None, 24.0),
            ("Bougie en cire d'abeille", "Cire pure de nos ruches, roulée à la main.", None, 9.0),
        )
        + _items(
            "Confiserie au miel",
            ("Pain d'épices au miel", "Miel de châtaignier et épices.", None, 7.5),
            ("Bonbons au miel", "Sachet de 150 g.", None, 4.5),
            ("Hydromel", "Boisson fermentée au miel, 75 cl.", None, 14.0),
            ("Coffret découverte miels", "Quatre pots de 125 g de nos miels.", None, 22.0),
        ),
        (("", 1.0), ("pot de 250 g", 0.6), ("pot de 500 g", 1.0), ("pot de 1 kg", 1.8)),
        (45, 58),
    ),
    "chocolatier": Trade(
        ("Chocolatier", "Confiserie"),
        _items(
            "Chocolats",
            ("Tablette chocolat noir 70 %", "Cacao du Pérou.", None, 5.9),
            ("Tablette chocolat au lait", "Lait entier, 40 % de cacao.", None, 5.5),
            ("Ballotin de pralinés", "Assortiment de pralinés maison.", None, 24.0),
            ("Truffes au chocolat", "Ganache roulée dans le cacao.", None, 18.0),
            ("Mendiants", "Chocolat noir, amandes, noisettes et raisins.", None, 12.0),
            ("Orangettes", "Écorces d'oranges confites enrobées.", None, 14.0),
            ("Œufs de Pâques en chocolat", "Chocolat noir et lait, garnis de fritures.", None, 19.0),
            ("Chocolat chaud à l'ancienne", "Copeaux à fondre dans le lait.", None, 9.5),
            ("Pâte à tartiner noisette", "Noisettes du Piémont, sans huile de palme.", None, 8.9),
            ("Chocolats de saison", "Coffret selon les fêtes.", None, 21.0),
        )
        + _items(
            "Confiserie",
            ("Pavés de Blois", "Chocolat et praliné.", None, 11.0),
            ("Caramels au beurre salé", "Caramels tendres.", None, 7.5),
            ("Pralines roses", "Amandes enrobées de sucre rose.", None, 6.9),
            ("Guimauves", "Guimauve artisanale vanille.", None, 6.5),
            ("Pâtes de fruits", "Fruits de nos vergers.", None, 9.9),
            ("Nougat au miel de lavande", "Nougat blanc de Montélimar.", None, 8.5),
        ),
        (("", 1.0), ("coffret 250 g", 1.5), ("coffret 500 g", 2.8)),
        (38, 46),
    ),
    "boucherie": Trade(
        ("Boucherie", "Charcuterie"),
        _items(
            "Charcuterie",
            ("Rillettes de Tours", "Porc cuit au chaudron à la graisse, recette tourangelle.", None, 24.0),
            ("Rillons de Touraine", "Poitrine de porc confite.", None, 22.0),
            ("Pâté de Chartres", "Pâté en croûte de gibier, spécialité chartraine.", None, 29.0),
            ("Pâté de campagne", "Porc et foie, recette maison.", None, 16.0),
            ("Jambon blanc à l'os", "Cuit au torchon.", None, 28.0),
            ("Saucisson sec", "Séché deux mois.", None, 26.0),
            ("Andouillette de Jargeau", "Andouillette au vouvray.", None, 19.0),
        )
        + _items(
            "Viandes",
            ("Côte de bœuf", "Race limousine, maturée trois semaines.", None, 34.0),
            ("Entrecôte", "Bœuf charolais.", None, 32.0),
            ("Gigot d'agneau du Berry", "Agneau fermier.", None, 26.0),
            ("Poulet fermier Label Rouge", "Élevé en plein air en Touraine.", None, 11.0),
            ("Géline de Touraine", "Volaille noire de race locale.", None, 18.0),
            ("Bœuf bourguignon", "Morceaux de paleron prêts à mijoter.", None, 17.0),
            ("Saucisses de Toulouse", "Pur porc.", None, 14.0),
        ),
        (("", 1.0), ("au kilo", 1.0), ("500 g", 0.5)),
        (34, 40),
    ),
    "poissonnerie": Trade(
        ("Poissonnerie",),
        _items(
            "Poissons",
            ("Sandre de Loire", "Filets de sandre sans arête.", None, 32.0),
            ("Saumon d'Écosse Label Rouge", "Pavé sans peau.", None, 29.0),
            ("Dos de cabillaud", "Pêche de ligne.", None, 27.0),
            ("Bar de ligne", "Entier, vidé.", None, 35.0),
            ("Sole", "Sole portion, pêche côtière.", None, 38.0),
            ("Truite fumée", "Truite de source fumée au bois de hêtre.", None, 9.5),
        )
        + _items(
            "Fruits de mer",
            ("Huîtres de Marennes-Oléron", "Fines de claire n°3, bourriche.", None, 18.0),
            ("Moules de bouchot", "Moules de la baie du Mont-Saint-Michel.", None, 6.5),
            ("Crevettes roses cuites", "Cuites du jour.", None, 24.0),
            ("Noix de Saint-Jacques", "Fraîches, sans corail.", None, 45.0),
        )
        + _items(
            "Traiteur de la mer",
            ("Soupe de poissons", "Avec rouille et croûtons.", None, 7.9),
            ("Rillettes de sardines", "À l'huile d'olive.", None, 5.5),
        ),
        (("", 1.0), ("au kilo", 1.0), ("la douzaine", 1.1)),
        (22, 30),
    ),
    "torrefacteur": Trade(
        ("Torréfacteur", "Thé & café"),
        _items(
            "Cafés",
            ("Café d'Éthiopie Moka Sidamo", "Arabica floral, notes de jasmin.", None, 9.5),
            ("Café du Brésil Santos", "Doux, notes de noisette.", None, 7.5),
            ("Café de Colombie Supremo", "Équilibré, légèrement fruité.", None, 8.2),
            ("Café décaféiné", "Décaféiné à l'eau.", None, 8.9),
            ("Mélange expresso maison", "Arabica et robusta, torréfaction foncée.", None, 7.9),
        )
        + _items(
            "Thés",
            ("Thé vert Sencha", "Thé vert japonais.", None, 12.0),
            ("Thé noir Earl Grey", "Bergamote.", "Mariage Frères", 15.0),
            ("Thé blanc Pai Mu Tan", "Thé blanc de Chine.", None, 16.0),
            ("Thé de Noël", "Épices et écorces d'orange.", "Kusmi Tea", 14.0),
            ("Rooibos vanille", "Infusion sans théine.", None, 9.0),
            ("Infusion tilleul menthe", "Plantes bio.", None, 7.0),
        )
        + _items(
            "Accessoires café et thé",
            ("Cafetière à piston", "Verre borosilicaté, 1 L.", "Bodum", 34.0),
            ("Moulin à café manuel", "Meules en céramique.", "Hario", 49.0),
            ("Théière en fonte", "Fonte émaillée japonaise, 0,8 L.", None, 59.0),
            ("Machine expresso manuelle", "Porte-filtre, 15 bars.", "De'Longhi", 249.0),
        ),
        (("", 1.0), ("250 g", 1.0), ("1 kg", 3.6)),
        (26, 34),
    ),
    "bijouterie": Trade(
        ("Bijouterie", "Horlogerie"),
        _items(
            "Bijoux",
            ("Bague en or jaune", "Or 18 carats, anneau fin.", None, 290.0),
            ("Alliance de mariage", "Or blanc, gravure offerte.", None, 450.0),
            ("Bracelet en argent", "Argent 925, maille forçat.", None, 69.0),
            ("Collier de perles", "Perles d'eau douce.", None, 159.0),
            ("Boucles d'oreilles créoles", "Plaqué or.", None, 49.0),
            ("Pendentif cœur", "Argent et zircon.", None, 59.0),
            ("Gourmette bébé gravée", "Argent, gravure du prénom.", None, 79.0),
        )
        + _items(
            "Montres",
            ("Montre automatique", "Boîtier acier, bracelet cuir.", "Lip", 390.0),
            ("Montre à quartz", "Cadran blanc, bracelet métal.", "Herbelin", 220.0),
        )
        + _items(
            "Orfèvrerie",
            ("Timbale de baptême", "Métal argenté, gravure.", "Christofle", 120.0),
            ("Ménagère en métal argenté", "Soixante pièces.", "Christofle", 1450.0),
        ),
        (("", 1.0), ("modèle femme", 1.0), ("modèle homme", 1.1)),
        (22, 30),
    ),
    "maroquinerie": Trade(
        ("Maroquinerie",),
        _items(
            "Sacs",
            ("Sac à main en cuir", "Cuir pleine fleur, fabriqué en France.", "Le Tanneur", 229.0),
            ("Sac besace", "Cuir grainé, bandoulière réglable.", None, 149.0),
            ("Cabas en cuir", "Grand cabas de ville.", None, 189.0),
            ("Sac à dos en cuir", "Compartiment ordinateur.", None, 199.0),
        )
        + _items(
            "Petite maroquinerie",
            ("Portefeuille en cuir", "Six cartes, porte-monnaie.", "Le Tanneur", 79.0),
            ("Porte-cartes", "Cuir de veau.", None, 39.0),
            ("Ceinture en cuir", "Boucle laiton.", None, 59.0),
            ("Porte-clés en cuir", "Cuir tanné végétal.", None, 15.0),
        )
        + _items(
            "Bagagerie",
            ("Valise cabine", "Coque rigide, quatre roues.", "Delsey", 179.0),
            ("Sac de voyage", "Toile et cuir.", None, 139.0),
        ),
        (("", 1.0), ("noir", 1.0), ("cognac", 1.0), ("bleu marine", 1.0)),
        (22, 30),
    ),
    "mercerie": Trade(
        ("Mercerie",),
        _items(
            "Laines",
            ("Pelote de laine mérinos", "Laine mérinos superwash, 50 g.", "Phildar", 6.9),
            ("Laine d'alpaga", "Pelote de 50 g.", "Bergère de France", 8.5),
            ("Coton à tricoter", "Coton bio, 50 g.", "Bergère de France", 4.9),
        )
        + _items(
            "Mercerie",
            ("Boutons en bois", "Lot de dix, 15 mm.", None, 3.9),
            ("Fil à coudre", "Bobine polyester 500 m.", "Gütermann", 3.5),
            ("Ciseaux de couturière", "Lames de 21 cm.", "Fiskars", 24.0),
            ("Aiguilles à tricoter", "Bambou, n°4.", "Prym", 7.5),
            ("Ruban de satin", "Bobine de 5 m.", None, 4.5),
            ("Fermeture éclair", "Séparable, 50 cm.", None, 3.2),
            ("Patron de couture robe", "Tailles 36 à 48.", None, 14.0),
        )
        + _items(
            "Tissus",
            ("Tissu lin lavé", "Au mètre, 140 cm de laize.", None, 22.0),
            ("Tissu Liberty", "Coton imprimé fleuri, au mètre.", "Liberty", 32.0),
        ),
        (("", 1.0), ("écru", 1.0), ("rouge", 1.0), ("bleu", 1.0)),
        (24, 34),
    ),
    "papeterie": Trade(
        ("Papeterie",),
        _items(
            "Papeterie",
            ("Carnet de notes", "Papier recyclé, 96 pages pointillées.", "Clairefontaine", 6.5),
            ("Agenda 2027", "Semainier, couverture rigide.", "Quo Vadis", 18.0),
            ("Cahier grands carreaux", "96 pages, format 24 × 32.", "Clairefontaine", 3.2),
            ("Carte de vœux", "Illustrée, avec enveloppe.", None, 3.5),
            ("Papier à lettres", "Vergé ivoire, pochette.", None, 9.0),
        )
        + _items(
            "Écriture",
            ("Stylo plume", "Plume acier moyenne.", "Waterman", 49.0),
            ("Stylo bille", "Le classique, pointe moyenne.", "Bic", 1.2),
            ("Encre en flacon", "Bleu des mers du sud, 50 ml.", "J. Herbin", 11.0),
            ("Crayons de couleur", "Boîte de 24.", "Caran d'Ache", 19.0),
        )
        + _items(
            "Beaux-arts",
            ("Boîte d'aquarelle", "Douze demi-godets.", "Sennelier", 39.0),
            ("Carnet de croquis", "Papier 200 g.", "Canson", 12.0),
        ),
        (("", 1.0), ("lot de 3", 2.7), ("coffret cadeau", 1.8)),
        (24, 32),
    ),
    "bieres": Trade(
        ("Cave à bières",),
        _items(
            "Bières",
            ("Bière blonde de Touraine", "Brassée à Tours, houblons français.", "Brasserie de l'Aubrière", 3.5),
            ("Bière ambrée", "Malt caramel, légère amertume.", "Brasserie de l'Aubrière", 3.6),
            ("Bière blanche", "Blé et écorces d'orange.", "Brasserie La Loire", 3.4),
            ("Bière de saison", "Saison belge, sèche et épicée.", "Brasserie Dupont", 4.2),
            ("IPA", "India pale ale, houblonnée à cru.", "Brasserie La Loire", 4.5),
            ("Bière brune", "Notes de café et de chocolat.", None, 3.9),
            ("Bière au miel", "Bière blonde au miel de Sologne.", "Brasserie de Sologne", 4.3),
            ("Bière sans alcool", "Blonde légère, 0,4 %.", None, 2.9),
            ("Cidre brut", "Cidre fermier.", None, 4.8),
        )
        + _items(
            "Accessoires de la bière",
            ("Verre à bière", "Verre tulipe 33 cl.", None, 6.0),
            ("Coffret de bières régionales", "Six bières du Centre-Val de Loire.", None, 24.0),
        ),
        (("", 1.0), ("33 cl", 1.0), ("75 cl", 2.0), ("pack de 6", 5.5)),
        (34, 42),
    ),
    "droguerie": Trade(
        ("Droguerie",),
        _items(
            "Entretien",
            ("Vinaigre blanc", "Détartrant et nettoyant, 1 L.", None, 2.5),
            ("Bicarbonate de soude", "Usage ménager, 1 kg.", None, 4.9),
            ("Cristaux de soude", "Dégraissant, 1 kg.", None, 4.5),
            ("Terre de Sommières", "Détachant naturel.", None, 6.9),
            ("Cire d'abeille pour meubles", "Nourrit les bois cirés.", None, 12.0),
            ("Paillettes de lessive", "Lessive en paillettes sans parfum.", None, 8.5),
        )
        + _items(
            "Brosserie",
            ("Balai en paille de riz", "Balai traditionnel.", None, 19.0),
            ("Brosse à vaisselle en bois", "Hêtre et fibres végétales.", "Redecker", 6.5),
            ("Plumeau en plumes d'autruche", "Attrape la poussière.", None, 14.0),
            ("Éponges naturelles", "Lot de trois.", None, 7.5),
        )
        + _items(
            "Soin et beauté",
            ("Cire à moustache", "Tenue forte, parfum vétiver.", None, 11.0),
            ("Blaireau de rasage", "Poils de sanglier, manche en bois.", None, 25.0),
            ("Brosse à cheveux en bois", "Picots en bois de hêtre.", None, 16.0),
            ("Peigne en corne", "Corne véritable.", None, 13.0),
        ),
        (("", 1.0), ("grand format", 1.7)),
        (20, 28),
    ),
    "cordonnerie": Trade(
        ("Cordonnerie", "Clés minute"),
        _items(
            "Entretien des chaussures",
            ("Cirage noir", "Cirage en boîte, 50 ml.", "Saphir", 7.9),
            ("Crème de soin incolore", "Nourrit les cuirs lisses.", "Saphir", 9.9),
            ("Embauchoirs en cèdre", "Gardent la forme des chaussures.", None, 29.0),
            ("Lacets cirés", "Paire de 75 cm.", None, 3.5),
            ("Semelles en cuir", "Première de propreté.", None, 12.0),
            ("Imperméabilisant", "Bombe 250 ml.", "Saphir", 11.0),
            ("Chausse-pied en corne", "Long manche.", None, 15.0),
        )
        + _items(
            "Clés et serrures",
            ("Reproduction de clé", "Clé plate standard, faite sur place.", None, 6.0),
            ("Plaque gravée", "Boîte aux lettres, gravure.", None, 12.0),
        ),
        (("", 1.0), ("noir", 1.0), ("marron", 1.0)),
        (14, 20),
    ),
    "velo": Trade(
        ("Vélos", "Cycles"),
        _items(
            "Vélos",
            ("Vélo de ville", "Cadre aluminium, sept vitesses, panier.", "Gitane", 549.0),
            ("Vélo électrique Samedi 28", "Assistance Bosch, cadre bas.", "Moustache", 2999.0),
            ("Vélo électrique Lundi 27", "VTC électrique, batterie 500 Wh.", "Moustache", 3299.0),
            ("VTT semi-rigide", "Fourche suspendue, 29 pouces.", "Lapierre", 899.0),
            ("Vélo de route", "Cadre carbone, groupe Shimano 105.", "Lapierre", 1899.0),
            ("Vélo enfant 16 pouces", "Dès 4 ans, stabilisateurs.", "Btwin", 189.0),
            ("Draisienne en bois", "Vélo sans pédales, dès 2 ans.", None, 89.0),
        )
        + _items(
            "Accessoires vélo",
            ("Casque de vélo", "Homologué, ventilé.", "Abus", 59.0),
            ("Antivol en U", "Niveau de sécurité 12.", "Abus", 69.0),
            ("Sacoche de porte-bagages", "Étanche, 20 L.", "Ortlieb", 119.0),
            ("Éclairage LED rechargeable", "Avant et arrière, USB.", None, 34.0),
            ("Pompe à vélo", "Pompe à pied avec manomètre.", None, 29.0),
            ("Chambre à air", "700 × 28, valve Presta.", "Michelin", 8.0),
        ),
        (("", 1.0), ("taille M", 1.0), ("taille L", 1.0)),
        (18, 26),
    ),
    "luminaires": Trade(
        ("Luminaires", "Bougies", "Décoration"),
        _items(
            "Bougies",
            ("Bougie parfumée figue", "Cire végétale, 40 heures.", None, 24.0),
            ("Bougie parfumée miel et amande", "Cire de soja, parfum gourmand.", None, 24.0),
            ("Bougie en cire d'abeille", "Coulée à la main.", None, 14.0),
            ("Bougies chauffe-plat", "Lot de 30, sans parfum.", None, 6.0),
            ("Bougie pilier blanche", "Hauteur 20 cm.", None, 9.0),
            ("Bougies de Noël", "Coffret de bougies rouges.", None, 18.0),
            ("Bougeoir en laiton", "Laiton massif.", None, 29.0),
        )
        + _items(
            "Luminaires",
            ("Lampe de chevet", "Pied en céramique, abat-jour en lin.", None, 79.0),
            ("Suspension en rotin", "Diamètre 45 cm.", None, 119.0),
            ("Lampadaire en bois", "Trépied en chêne.", None, 189.0),
            ("Guirlande lumineuse", "Vingt boules en coton.", None, 34.0),
            ("Lanterne en fer forgé", "Pour bougie ou LED.", None, 45.0),
            ("Ampoule à filament LED", "E27, blanc chaud.", None, 9.0),
        ),
        (("", 1.0), ("petit modèle", 0.7), ("grand modèle", 1.5)),
        (32, 38),
    ),
    "ceramique": Trade(
        ("Céramique", "Arts de la table"),
        _items(
            "Vaisselle",
            ("Bol en grès", "Grès tourné à la main, émail miel.", None, 24.0),
            ("Saladier en grès", "Grès de La Borne, émail miel, 28 cm.", None, 68.0),
            ("Assiette plate en porcelaine", "Porcelaine blanche, 27 cm.", None, 19.0),
            ("Tasse à café en porcelaine", "Avec soucoupe.", None, 14.0),
            ("Théière en grès", "Grès émaillé, 1 L.", None, 58.0),
            ("Plat à tarte en céramique", "Va au four.", None, 35.0),
            ("Pot à miel en grès", "Avec cuillère en bois d'olivier.", None, 22.0),
            ("Mug en faïence", "Décor fleuri peint à la main.", None, 18.0),
        )
        + _items(
            "Décoration",
            ("Vase en céramique", "Émail céladon.", None, 49.0),
            ("Cache-pot en terre cuite", "Émaillé, trou de drainage.", None, 29.0),
            ("Photophore en porcelaine", "Porcelaine ajourée.", None, 32.0),
        ),
        (("", 1.0), ("bleu", 1.0), ("blanc", 1.0), ("lot de 4", 3.6)),
        (34, 42),
    ),
    "vetements": Trade(
        ("Vêtements", "Mode"),
        _items(
            "Vêtements femme",
            ("Marinière", "Jersey de coton, fabriquée en France.", "Saint James", 89.0),
            ("Pull en laine mérinos", "Col rond, maille fine.", None, 99.0),
            ("Robe en lin", "Lin lavé, coupe droite.", None, 119.0),
            ("Écharpe en cachemire", "Cachemire doux.", None, 89.0),
        )
        + _items(
            "Vêtements homme",
            ("Chemise en coton", "Popeline, coupe ajustée.", None, 79.0),
            ("Caleçon", "Coton fabriqué en France.", "Le Slip Français", 35.0),
            ("Jean brut", "Denim selvedge.", "1083", 119.0),
            ("Veste en velours côtelé", "Velours de coton.", None, 169.0),
        )
        + _items(
            "Vêtements enfant",
            ("Pyjama enfant", "Coton bio.", None, 35.0),
            ("Bonnet en laine", "Tricoté en France.", None, 29.0),
        ),
        (("", 1.0), ("taille S", 1.0), ("taille M", 1.0), ("taille L", 1.0)),
        (32, 38),
    ),
    "chaussures": Trade(
        ("Chaussures",),
        _items(
            "Chaussures",
            ("Bottes de pluie", "Caoutchouc naturel, fabriquées en France.", "Aigle", 99.0),
            ("Bottes en cuir", "Cuir et doublure chaude.", None, 189.0),
            ("Baskets en toile", "Toile de coton bio, semelle caoutchouc.", "Veja", 110.0),
            ("Mocassins", "Cuir souple.", "Paraboot", 260.0),
            ("Chaussures de randonnée", "Membrane imperméable.", "Aigle", 149.0),
            ("Espadrilles", "Corde de jute.", None, 39.0),
            ("Pantoufles", "Charentaises en feutre.", "La Manufacture Charentaise", 45.0),
            ("Sandales en cuir", "Cuir naturel.", None, 79.0),
            ("Chaussures de ville", "Derbies en cuir.", "Paraboot", 290.0),
        ),
        (("", 1.0), ("pointure 38", 1.0), ("pointure 41", 1.0), ("pointure 43", 1.0)),
        (30, 36),
    ),
    "electromenager": Trade(
        ("Électroménager",),
        _items(
            "Petit électroménager",
            ("Machine à expresso broyeur", "Broyeur intégré, buse vapeur.", "De'Longhi", 599.0),
            ("Cafetière filtre", "Programmable, 12 tasses.", "Moulinex", 59.0),
            ("Bouilloire électrique", "1,7 L, inox.", "Smeg", 159.0),
            ("Grille-pain", "Deux fentes larges.", "Smeg", 169.0),
            ("Robot pâtissier", "Bol de 4,8 L.", "KitchenAid", 549.0),
            ("Crêpière électrique", "Plaque de 33 cm.", "Tefal", 49.0),
            ("Poêle à crêpes", "Fonte d'aluminium, 28 cm.", "Tefal", 29.0),
            ("Poêle à frire", "Revêtement antiadhésif, 24 cm.", "Tefal", 34.0),
            ("Cocotte en fonte", "Fonte émaillée, 24 cm.", "Le Creuset", 249.0),
            ("Aspirateur sans fil", "Autonomie 40 minutes.", "Rowenta", 299.0),
        )
        + _items(
            "Gros électroménager",
            ("Lave-linge hublot", "8 kg, classe A.", "Bosch", 649.0),
            ("Réfrigérateur combiné", "Froid ventilé, 300 L.", "Bosch", 799.0),
            ("Four encastrable", "Pyrolyse, 71 L.", "Siemens", 549.0),
        ),
        (("", 1.0), ("noir", 1.0), ("inox", 1.1)),
        (30, 38),
    ),
}


@dataclass(frozen=True)
class Special:
    """A product placed in one shop on purpose (a trap of issue 17 or a landmark)."""

    shop: str
    item: Item
    availability: str = "in_stock"


SPECIALS: tuple[Special, ...] = (
    # Browsing Tours without words must not put this first.
    Special(
        "brulerie-des-halles",
        Item(
            "Machine expresso La Marzocco Linea Mini",
            "Machines à café",
            "Machine expresso professionnelle à double chaudière, pour la maison.",
            "La Marzocco",
            5290.0,
        ),
    ),
    Special(
        "tours-menager",
        Item(
            "Machine expresso à levier",
            "Petit électroménager",
            "Machine expresso à levier en inox, trois litres.",
            "La Pavoni",
            1190.0,
        ),
    ),
    Special(
        "cave-plumereau",
        Item(
            "Touraine Chenonceaux blanc",
            "Vins blancs",
            "Sauvignon de coteaux, élevé sur lies.",
            "Domaine des Bois Vaudons",
            13.5,
        ),
    ),
    Special(
        "gres-de-la-borne",
        Item("Pichet en grès de La Borne", "Vaisselle", "Grès au feu de bois, émail miel et cendre.", None, 46.0),
    ),
    Special(
        "quincaillerie-vierzonnaise",
        Item(
            "Cuisinière à bois",
            "Chauffage",
            "Cuisinière mixte à bois et charbon, four et plaque en fonte.",
            "Godin",
            2490.0,
        ),
    ),
    Special(
        "le-cheval-de-bois",
        Item("Cheval à bascule Poulain", "Jouets en bois", "Petit cheval en bois massif, dès 1 an.", "Vilac", 149.0),
    ),
    Special(
        "le-carre-blesois",
        Item("Tablette chocolat noir Poulain", "Chocolats", "Le chocolat de Blois depuis 1848.", "Poulain", 2.9),
    ),
    Special(
        "le-carre-blesois",
        Item("Cacao en poudre Poulain", "Chocolats", "Chocolat en poudre du petit déjeuner.", "Poulain", 4.5),
    ),
    Special(
        "faiences-de-la-loire",
        Item("Assiette plate Gien Pivoines", "Vaisselle", "Faïence fine de Gien, décor peint.", "Gien", 42.0),
    ),
    Special(
        "faiences-de-la-loire",
        Item("Plat ovale Gien Oiseau Bleu", "Vaisselle", "Faïence de Gien, décor historique.", "Gien", 95.0),
    ),
    Special(
        "porcelaines-de-vierzon",
        Item(
            "Service à café en porcelaine de Vierzon",
            "Vaisselle",
            "Six tasses et soucoupes, porcelaine du Berry.",
            None,
            89.0,
        ),
    ),
    Special(
        "bijouterie-rue-nationale",
        Item("Montre Lip Himalaya", "Montres", "Montre française, boîtier acier, cadran noir.", "Lip", 249.0),
        "out_of_stock",
    ),
    Special(
        "l-epicerie-tourangelle",
        Item("Huile d'olive de Nyons AOP", "Huiles et vinaigres", "Olives tanche, fruité mûr.", None, 21.0),
    ),
    Special(
        "comptoirs-de-jeanne",
        Item("Vinaigre de miel", "Huiles et vinaigres", "Vinaigre doux à l'hydromel.", None, 8.5),
    ),
)

AVAILABILITY = (("in_stock", 70), ("out_of_stock", 15), ("preorder", 5), ("unknown", 10))


def _price(value: float) -> Decimal:
    """Shop-like prices: 12,90 rather than 12,87; large ones to the euro."""
    if value >= 100:
        return Decimal(round(value))
    return Decimal(str(math.floor(value * 10) / 10 + (0.09 if value < 5 else 0.0))).quantize(Decimal("0.01"))


def _point(shop: Shop, rng: random.Random) -> tuple[float, float]:
    """The shop's door: within about 600 m of its town centre."""
    town = TOWNS[shop.town]
    return round(town.lat + rng.uniform(-0.005, 0.005), 5), round(town.lon + rng.uniform(-0.007, 0.007), 5)


@dataclass
class Catalogue:
    shops: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)

    def by_source(self) -> dict[str, list[dict[str, Any]]]:
        """Records per source (a shop and its products), as run files hold them."""
        runs: dict[str, list[dict[str, Any]]] = {record["source_id"]: [record] for record in self.shops}
        for product in self.products:
            runs[product["source_id"]].append(product)
        return runs


def _product(
    shop: Shop, shop_record: dict[str, Any], n: int, name: str, item: Item, price: Decimal, availability: str, day: int
) -> dict[str, Any]:
    url = f"https://{shop.id}.example.fr/produit/{n}"
    return ProductRecord(
        id=f"{shop.id}-{n:03d}",
        source_id=shop.id,
        run_id=RUN_ID,
        source_url=f"https://{shop.id}.example.fr/",
        shop_id=shop.id,
        shop_name=shop.name,
        shop_url=f"https://{shop.id}.example.fr/",
        town=shop.town,
        postcode=TOWNS[shop.town].postcode,
        lat=shop_record["lat"],
        lon=shop_record["lon"],
        categories=list(shop_record["categories"]),
        services=list(shop.services),
        name=name,
        description=item.description,
        brand=item.brand,
        category=item.category,
        price=price,
        currency="EUR",
        availability=availability,  # type: ignore[arg-type]
        url=url,
        image=f"https://{shop.id}.example.fr/img/{n}.jpg",
        first_seen=f"2026-{9 + day // 30:02d}-{1 + day % 30:02d}T08:00:00Z",
        last_seen=LAST_SEEN,
    ).model_dump(mode="json")


def build(seed: int = SEED) -> Catalogue:
    """The whole catalogue, the same for the same seed."""
    rng = random.Random(seed)
    catalogue = Catalogue()
    weights = [w for _, w in AVAILABILITY]
    for shop in SHOPS:
        trade = TRADES[shop.trade]
        lat, lon = _point(shop, rng)
        town = TOWNS[shop.town]
        record = ShopRecord(
            id=shop.id,
            source_id=shop.id,
            run_id=RUN_ID,
            source_url=f"https://{shop.id}.example.fr/",
            name=shop.name,
            url=f"https://{shop.id}.example.fr/",
            address=f"{rng.randint(1, 80)} rue {rng.choice(STREETS)}",
            postcode=town.postcode,
            town=shop.town,
            lat=lat,
            lon=lon,
            categories=list(trade.categories),
            services=list(shop.services),
            last_seen=LAST_SEEN,
        ).model_dump(mode="json")
        catalogue.shops.append(record)
        combos = [(item, variant) for item in trade.items for variant in trade.variants]
        # Every shop of a trade sells each of its items at least once (in some format), then
        # more formats at random: shops of one trade overlap, as real ones do.
        chosen = [(item, rng.choice(trade.variants)) for item in trade.items]
        rest = [c for c in combos if c not in chosen]
        rng.shuffle(rest)
        target = rng.randint(*trade.per_shop)
        chosen += rest[: max(0, target - len(chosen))]
        specials = [s for s in SPECIALS if s.shop == shop.id]
        n = 0
        for item, (suffix, factor) in chosen:
            n += 1
            name = f"{item.name}, {suffix}" if suffix else item.name
            price = _price(item.price * factor * rng.uniform(0.92, 1.1))
            availability = rng.choices([a for a, _ in AVAILABILITY], weights)[0]
            catalogue.products.append(_product(shop, record, n, name, item, price, availability, rng.randint(0, 85)))
        for special in specials:
            n += 1
            price = _price(special.item.price)
            catalogue.products.append(
                _product(
                    shop, record, n, special.item.name, special.item, price, special.availability, rng.randint(0, 85)
                )
            )
    return catalogue


STREETS = (
    "Nationale",
    "de la République",
    "du Commerce",
    "Colbert",
    "des Halles",
    "du Grand Marché",
    "Victor-Hugo",
    "Jeanne-d'Arc",
    "de la Paix",
    "Porte-Chartraine",
)
