"""Names, birth places and contact details that look French, for synthetic identities.

Surnames and first names are common ones, with their accents, hyphens and particles; first names
follow the fashions of each generation. Birth places are real INSEE codes: communes (Paris,
Lyon and Marseille by arrondissement, as on birth certificates and NIRs) or, for people born
abroad, the country codes of the INSEE geographic code (99xxx).
"""

from __future__ import annotations

from .rand import Rng, Weighted


def _zipf(names: str) -> Weighted:
    """Names listed from most to least common, weighted like a surname frequency table."""
    items = [name.strip() for name in names.split(";") if name.strip()]
    return Weighted([(name, 1.0 / (rank + 8) ** 0.9) for rank, name in enumerate(items)])


def _flat(names: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in names.split(";") if name.strip())


FRENCH_SURNAMES = _zipf(
    "Martin; Bernard; Thomas; Petit; Robert; Richard; Durand; Dubois; Moreau; Laurent; Simon;"
    " Michel; Lefèvre; Leroy; Roux; David; Bertrand; Morel; Fournier; Girard; Bonnet; Dupont;"
    " Lambert; Fontaine; Rousseau; Vincent; Müller; Lefebvre; Faure; André; Mercier; Blanc;"
    " Guérin; Boyer; Garnier; Chevalier; François; Legrand; Gauthier; Garcia; Perrin; Robin;"
    " Clément; Morin; Nicolas; Henry; Roussel; Mathieu; Gautier; Masson; Marchand; Duval; Denis;"
    " Dumont; Marie; Lemaire; Noël; Meyer; Dufour; Meunier; Brun; Blanchard; Giraud; Joly;"
    " Rivière; Lucas; Brunet; Gaillard; Barbier; Arnaud; Martinez; Gérard; Roche; Renard;"
    " Schmitt; Roy; Leroux; Colin; Vidal; Caron; Picard; Roger; Fabre; Aubert; Lemoine; Renaud;"
    " Dumas; Lacroix; Olivier; Philippe; Bourgeois; Pierre; Benoît; Rey; Leclerc; Payet;"
    " Rolland; Leclercq; Guillaume; Lecomte; Lopez; Jean; Dupuy; Guillot; Hubert; Berger;"
    " Carpentier; Sanchez; Dupuis; Moulin; Louis; Deschamps; Huet; Vasseur; Perez; Boucher;"
    " Fleury; Royer; Klein; Jacquet; Adam; Paris; Poirier; Marty; Aubry; Guyot; Carré; Charles;"
    " Renault; Charpentier; Ménard; Maillard; Baron; Bertin; Bailly; Hervé; Schneider;"
    " Fernandez; Le Gall; Collet; Léger; Bouvier; Julien; Prévost; Millet; Perrot; Daniel;"
    " Le Roux; Cousin; Germain; Breton; Besson; Langlois; Rémy; Le Goff; Pelletier; Lévêque;"
    " Perrier; Leblanc; Barré; Lebrun; Marchal; Weber; Mallet; Hamon; Boulanger; Jacob;"
    " Monnier; Michaud; Rodriguez; Guichard; Gillet; Étienne; Grondin; Poulain; Tessier;"
    " Chevallier; Collin; Chauvin; Bouchet; Gay; Lemaître; Bénard; Maréchal; Humbert; Reynaud;"
    " Antoine; Hoarau; Perret; Barthélemy; Cordier; Pichon; Lejeune; Gilbert; Lamy; Delaunay;"
    " Pasquier; Carlier; Laporte; Œhmichen; Lenôtre; Delacroix; Beaumont; Després; Hébert;"
    " Thibault; Texier; Vallée; Buisson; Lefort; Bouquet; Pons; Jourdan; Hamel; Devaux; Baudry"
)
# Particles and compound names, rarer but what normalisation must survive.
PARTICLE_SURNAMES = _flat(
    "de La Fontaine; de Villiers; du Pont; de Saint-Just; de Lattre; de Beauregard;"
    " du Bois de la Motte; d'Arcy; d'Aubigné; de Montalembert; de La Roche; des Garets;"
    " de Chabannes; Le Bihan; Le Floch; Le Corre; Le Guen; Le Meur; Saint-Martin; Dupont-Aignan;"
    " Van den Berghe; Van der Meulen; de Oliveira; de Sousa; d'Almeida; Da Costa"
)
BRETON_SURNAMES = _zipf(
    "Le Gall; Le Goff; Le Roux; Le Bihan; Le Floch; Le Corre; Le Guen; Le Meur; Guillou; Tanguy;"
    " Le Borgne; Kerbrat; Quéméner; Le Hir; Morvan; Le Bris; Cloarec; Jaouen; Le Moal; Riou"
)
CORSICAN_SURNAMES = _zipf(
    "Santoni; Leca; Luciani; Mattei; Colonna; Pietri; Giacomoni; Casanova; Marchetti; Filippi;"
    " Paoli; Albertini; Orsini; Cesari; Franceschi; Poli; Antonetti; Simeoni; Bartoli; Rossi"
)
REUNION_SURNAMES = _zipf(
    "Payet; Hoarau; Grondin; Técher; Fontaine; Robert; Boyer; Rivière; Nativel; Maillot;"
    " Lebon; Clain; Dijoux; Turpin; Lauret; Sautron; Huet; Ethève; Folio; Hoareau"
)

FOREIGN_SURNAMES = {
    "maghreb": _zipf(
        "Benali; Haddad; Bouzid; Mansouri; Cherif; Brahimi; Belkacem; Amrani; Saïdi; Khelifi;"
        " Ziani; Benmoussa; El Amrani; Bensaïd; Meziane; Hamidi; Boukhari; Ait Ahmed; Benyahia;"
        " Lahlou; Mokrani; Chaouch; Ben Salah; Rahmani"
    ),
    "portugal": _zipf(
        "Da Silva; Dos Santos; Pereira; Ferreira; Rodrigues; Gonçalves; Fernandes; Lopes;"
        " Carvalho; Teixeira; Martins; Ribeiro; Sousa; Oliveira; Pinto; Marques; Monteiro"
    ),
    "westafrica": _zipf(
        "Diallo; Traoré; Diop; N'Diaye; Koné; Camara; Coulibaly; Sow; Fofana; Cissé; Touré;"
        " Keïta; Sylla; Ba; Sissoko; Konaté; Dembélé; Kouassi; Mbappé; Nkoulou"
    ),
    "southeu": _zipf(
        "Rossi; Russo; Esposito; Bianchi; Romano; Ricci; Garcia; Martinez; Lopez; Sanchez;"
        " Fernandez; Gonzalez; Rodriguez; Perez; Gomez; Ruiz; Jiménez; Navarro"
    ),
    "asia": _zipf("Nguyen; Tran; Pham; Le; Vo; Huynh; Dang; Bui; Truong; Ngô; Wang; Chen; Lin"),
    "turkey": _zipf("Yilmaz; Kaya; Demir; Şahin; Çelik; Yildiz; Aydin; Öztürk; Arslan; Doğan"),
    "northeu": _zipf(
        "Müller; Schmidt; Schneider; Fischer; Peeters; Janssens; Smith; Jones; Popescu; Ionescu;"
        " Kowalski; Nowak; Wiśniewski; Horvat; Novák"
    ),
}

# First names by birth cohort (upper bound of the birth year) and sex.
_FRENCH_FIRST = {
    1944: {
        "F": "Jeanne; Marie; Marguerite; Germaine; Louise; Yvonne; Madeleine; Suzanne; Marcelle;"
        " Simone; Paulette; Denise; Odette; Andrée; Renée; Lucienne; Raymonde; Georgette;"
        " Henriette; Geneviève; Colette; Jacqueline; Monique; Odile; Thérèse; Lucie; Hélène;"
        " Berthe; Gisèle; Ginette",
        "M": "Jean; André; Pierre; René; Marcel; Louis; Roger; Georges; Henri; Robert; Paul;"
        " Maurice; Raymond; Joseph; Lucien; Fernand; Albert; Jacques; Gaston; Émile; Léon;"
        " Roland; Gilbert; Bernard; Guy; Claude; Michel; Raoul; Armand; Marius",
    },
    1964: {
        "F": "Monique; Françoise; Nicole; Martine; Christiane; Danielle; Michèle; Jacqueline;"
        " Annie; Catherine; Sylvie; Brigitte; Chantal; Dominique; Christine; Marie-Claude;"
        " Évelyne; Josiane; Joëlle; Patricia; Nadine; Élisabeth; Marie-France; Anne-Marie;"
        " Bernadette; Mireille; Francine; Colette",
        "M": "Jean; Michel; Philippe; Alain; Patrick; Daniel; Bernard; Christian; Gérard; Jacques;"
        " Claude; Jean-Pierre; Jean-Claude; Dominique; Serge; Jean-Louis; Pierre; Didier;"
        " Gilles; Jean-Marie; Francis; Guy; Yves; René; Jean-François; Joël; Thierry; Hervé",
    },
    1984: {
        "F": "Nathalie; Isabelle; Sylvie; Catherine; Valérie; Sandrine; Véronique; Christine;"
        " Stéphanie; Céline; Laurence; Corinne; Sophie; Karine; Virginie; Aurélie; Emmanuelle;"
        " Delphine; Séverine; Caroline; Marie-Christine; Anne; Hélène; Cécile; Élodie; Florence;"
        " Audrey; Émilie; Gaëlle; Noémie",
        "M": "Christophe; Stéphane; Laurent; Frédéric; Éric; Olivier; Nicolas; Sébastien; David;"
        " Thierry; Pascal; Franck; Jérôme; Cédric; Vincent; Fabrice; Arnaud; Ludovic; Julien;"
        " Yannick; Emmanuel; Sylvain; Jean-Philippe; Xavier; Bruno; Lionel; Grégory; Patrice;"
        " Mickaël; Damien",
    },
    2004: {
        "F": "Julie; Marie; Laura; Camille; Manon; Sarah; Pauline; Marine; Émilie; Léa; Anaïs;"
        " Chloé; Mélanie; Élodie; Justine; Océane; Clara; Morgane; Amandine; Lucie; Mathilde;"
        " Charlotte; Inès; Marion; Jessica; Audrey; Claire; Laëtitia; Margaux; Maëva",
        "M": "Thomas; Nicolas; Julien; Kévin; Maxime; Alexandre; Quentin; Romain; Anthony;"
        " Guillaume; Florian; Jérémy; Mathieu; Benjamin; Clément; Antoine; Lucas; Hugo; Théo;"
        " Vincent; Alexis; Adrien; Valentin; Jonathan; Pierre; Dylan; Loïc; Baptiste; Corentin;"
        " Raphaël",
    },
    2014: {
        "F": "Emma; Léa; Chloé; Manon; Inès; Camille; Sarah; Lola; Jade; Zoé; Lilou; Lina; Clara;"
        " Maëlys; Louise; Anaïs; Juliette; Romane; Eva; Océane; Lucie; Ambre; Alice; Mathilde;"
        " Noémie; Maëlle; Léna; Louna; Nina; Anna",
        "M": "Lucas; Nathan; Enzo; Hugo; Louis; Gabriel; Jules; Mathis; Théo; Raphaël; Arthur;"
        " Thomas; Noah; Tom; Maxime; Ethan; Clément; Évan; Paul; Mattéo; Nolan; Adam; Baptiste;"
        " Léo; Timéo; Sacha; Yanis; Kylian; Axel; Aaron",
    },
    9999: {
        "F": "Jade; Louise; Emma; Alice; Ambre; Lina; Rose; Chloé; Mia; Léa; Anna; Mila; Julia;"
        " Inès; Léna; Lou; Agathe; Iris; Juliette; Zoé; Romy; Nina; Victoire; Margaux; Éva;"
        " Jeanne; Olivia; Lucie; Adèle; Capucine",
        "M": "Gabriel; Léo; Raphaël; Louis; Arthur; Jules; Adam; Maël; Lucas; Hugo; Noah; Liam;"
        " Gabin; Sacha; Paul; Nathan; Aaron; Mohamed; Ethan; Tom; Éden; Léon; Noé; Marius;"
        " Timéo; Côme; Isaac; Malo; Nino; Victor",
    },
}
FRENCH_FIRST = {
    year: {sex: _zipf(names) for sex, names in by_sex.items()}
    for year, by_sex in _FRENCH_FIRST.items()
}
FOREIGN_FIRST = {
    "maghreb": {
        "F": _zipf(
            "Fatima; Khadija; Amina; Nadia; Samira; Leïla; Yasmina; Inès; Malika; Zohra;"
            " Naïma; Karima; Sofia; Myriam; Lina; Aïcha"
        ),
        "M": _zipf(
            "Mohamed; Ahmed; Karim; Youssef; Rachid; Mehdi; Nassim; Samir; Ali; Omar;"
            " Bilal; Sofiane; Hocine; Mustapha; Rayan; Ilyes"
        ),
    },
    "portugal": {
        "F": _zipf("Maria; Ana; Fernanda; Rosa; Isabel; Beatriz; Inês; Sofia; Manuela; Lúcia"),
        "M": _zipf("João; José; Manuel; António; Carlos; Paulo; Rui; Tiago; Francisco; Luís"),
    },
    "westafrica": {
        "F": _zipf("Aminata; Fatoumata; Awa; Mariam; Aïssatou; Kadiatou; Binta; Rokia; Nafi"),
        "M": _zipf("Mamadou; Moussa; Ibrahima; Abdoulaye; Ousmane; Boubacar; Seydou; Amadou"),
    },
    "southeu": {
        "F": _zipf("Giulia; Carmen; Maria; Francesca; Lucía; Rosa; Elena; Chiara; Pilar"),
        "M": _zipf("Giuseppe; Antonio; Marco; Francesco; José; Javier; Carlos; Luca; Pablo"),
    },
    "asia": {
        "F": _zipf("Thi Lan; Mai; Thu; Linh; Hoa; Mei; Xiao; Ngoc Anh"),
        "M": _zipf("Minh; Thanh; Duc; Van Nam; Huy; Wei; Jun; Quang"),
    },
    "turkey": {
        "F": _zipf("Ayşe; Fatma; Emine; Elif; Zeynep; Hatice; Merve"),
        "M": _zipf("Mehmet; Mustafa; Ahmet; Ali; Hüseyin; Emre; Murat"),
    },
    "northeu": {
        "F": _zipf("Anna; Sarah; Emily; Julia; Ioana; Agnieszka; Katarzyna; Sophie"),
        "M": _zipf("Thomas; Michael; Jan; Andrei; Piotr; Lukas; James; Stefan"),
    },
}

# Origin of a family name among people cared for; the rest are French.
ORIGINS = Weighted(
    [
        ("france", 80.0),
        ("maghreb", 8.0),
        ("portugal", 3.0),
        ("westafrica", 3.0),
        ("southeu", 2.0),
        ("asia", 1.5),
        ("turkey", 1.0),
        ("northeu", 1.5),
    ]
)
# Countries of birth for each origin (INSEE country codes).
BIRTH_COUNTRIES = {
    "maghreb": Weighted(
        [(("99350", "Maroc"), 4.0), (("99352", "Algérie"), 5.0), (("99351", "Tunisie"), 2.0)]
    ),
    "portugal": Weighted([(("99139", "Portugal"), 1.0)]),
    "westafrica": Weighted(
        [
            (("99341", "Sénégal"), 3.0),
            (("99335", "Mali"), 3.0),
            (("99326", "Côte d'Ivoire"), 2.0),
            (("99322", "Cameroun"), 2.0),
        ]
    ),
    "southeu": Weighted([(("99127", "Italie"), 1.0), (("99134", "Espagne"), 1.0)]),
    "asia": Weighted([(("99243", "Viêt Nam"), 2.0), (("99216", "Chine"), 1.0)]),
    "turkey": Weighted([(("99208", "Turquie"), 1.0)]),
    "northeu": Weighted(
        [
            (("99109", "Allemagne"), 2.0),
            (("99131", "Belgique"), 2.0),
            (("99132", "Royaume-Uni"), 1.0),
            (("99114", "Roumanie"), 1.0),
            (("99122", "Pologne"), 1.0),
            (("99140", "Suisse"), 1.0),
        ]
    ),
    "france": Weighted(
        [
            (("99131", "Belgique"), 1.0),
            (("99140", "Suisse"), 1.0),
            (("99352", "Algérie"), 2.0),
            (("99350", "Maroc"), 1.0),
        ]
    ),
}


def _communes(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in text.split(";"):
        code, name = item.strip().split(" ", 1)
        pairs.append((code, name))
    return tuple(pairs)


PARIS_ARRONDISSEMENTS = tuple(
    (f"751{n:02d}", f"Paris {n}{'er' if n == 1 else 'e'} Arrondissement") for n in range(1, 21)
)
LYON_ARRONDISSEMENTS = tuple(
    (f"6938{n}", f"Lyon {n}{'er' if n == 1 else 'e'} Arrondissement") for n in range(1, 10)
)
MARSEILLE_ARRONDISSEMENTS = tuple(
    (f"132{n:02d}", f"Marseille {n}{'er' if n == 1 else 'e'} Arrondissement") for n in range(1, 17)
)

# Real communes by département (INSEE code, name): the birth places of people born in France.
COMMUNES_BY_DEPARTEMENT: dict[str, tuple[tuple[str, str], ...]] = {
    "75": PARIS_ARRONDISSEMENTS,
    "69": LYON_ARRONDISSEMENTS + _communes("69266 Villeurbanne; 69259 Vénissieux"),
    "13": MARSEILLE_ARRONDISSEMENTS
    + _communes("13001 Aix-en-Provence; 13004 Arles; 13005 Aubagne; 13056 Martigues"),
    "33": _communes("33063 Bordeaux; 33281 Mérignac; 33318 Pessac"),
    "31": _communes("31555 Toulouse"),
    "44": _communes("44109 Nantes; 44184 Saint-Nazaire"),
    "59": _communes(
        "59350 Lille; 59512 Roubaix; 59599 Tourcoing; 59009 Villeneuve-d'Ascq;"
        " 59606 Valenciennes; 59178 Douai; 59183 Dunkerque"
    ),
    "06": _communes("06088 Nice; 06029 Cannes; 06004 Antibes; 06083 Menton; 06069 Grasse"),
    "67": _communes("67482 Strasbourg"),
    "38": _communes("38185 Grenoble; 38544 Vienne"),
    "35": _communes("35238 Rennes; 35288 Saint-Malo"),
    "34": _communes("34172 Montpellier; 34032 Béziers; 34301 Sète"),
    "83": _communes("83137 Toulon; 83061 Fréjus; 83069 Hyères; 83050 Draguignan"),
    "42": _communes("42218 Saint-Étienne; 42187 Roanne"),
    "21": _communes("21231 Dijon"),
    "49": _communes("49007 Angers"),
    "51": _communes("51454 Reims; 51108 Châlons-en-Champagne"),
    "76": _communes("76540 Rouen; 76351 Le Havre"),
    "37": _communes("37261 Tours"),
    "45": _communes("45234 Orléans"),
    "57": _communes("57463 Metz"),
    "54": _communes("54395 Nancy"),
    "63": _communes("63113 Clermont-Ferrand"),
    "87": _communes("87085 Limoges"),
    "29": _communes("29019 Brest; 29232 Quimper"),
    "14": _communes("14118 Caen; 14366 Lisieux"),
    "80": _communes("80021 Amiens"),
    "66": _communes("66136 Perpignan"),
    "25": _communes("25056 Besançon"),
    "86": _communes("86194 Poitiers"),
    "17": _communes("17300 La Rochelle"),
    "64": _communes("64445 Pau; 64102 Bayonne; 64122 Biarritz"),
    "84": _communes("84007 Avignon"),
    "30": _communes("30189 Nîmes"),
    "68": _communes("68224 Mulhouse; 68066 Colmar"),
    "74": _communes("74010 Annecy; 74012 Annemasse; 74281 Thonon-les-Bains"),
    "73": _communes("73065 Chambéry"),
    "26": _communes("26362 Valence"),
    "10": _communes("10387 Troyes"),
    "72": _communes("72181 Le Mans"),
    "78": _communes("78646 Versailles"),
    "91": _communes("91228 Évry-Courcouronnes"),
    "95": _communes("95127 Cergy; 95018 Argenteuil; 95500 Pontoise"),
    "93": _communes("93008 Bobigny; 93066 Saint-Denis; 93048 Montreuil; 93001 Aubervilliers"),
    "94": _communes("94028 Créteil; 94081 Vitry-sur-Seine"),
    "92": _communes("92050 Nanterre; 92012 Boulogne-Billancourt; 92025 Colombes"),
    "77": _communes("77284 Meaux; 77288 Melun"),
    "2A": _communes("2A004 Ajaccio"),
    "2B": _communes("2B033 Bastia"),
    "56": _communes("56121 Lorient; 56260 Vannes"),
    "79": _communes("79191 Niort"),
    "41": _communes("41018 Blois"),
    "18": _communes("18033 Bourges"),
    "28": _communes("28085 Chartres"),
    "27": _communes("27229 Évreux"),
    "60": _communes("60057 Beauvais; 60159 Compiègne"),
    "974": _communes("97411 Saint-Denis; 97416 Saint-Pierre; 97415 Saint-Paul"),
    "62": _communes("62193 Calais; 62041 Arras; 62498 Lens; 62160 Boulogne-sur-Mer"),
    "02": _communes("02408 Laon; 02691 Saint-Quentin"),
    "11": _communes("11262 Narbonne; 11069 Carcassonne"),
    "50": _communes("50129 Cherbourg-en-Cotentin; 50502 Saint-Lô"),
    "16": _communes("16015 Angoulême"),
    "22": _communes("22278 Saint-Brieuc"),
    "53": _communes("53130 Laval"),
    "03": _communes("03310 Vichy; 03190 Moulins"),
    "58": _communes("58194 Nevers"),
    "89": _communes("89024 Auxerre"),
    "08": _communes("08105 Charleville-Mézières"),
    "88": _communes("88160 Épinal"),
    "90": _communes("90010 Belfort"),
    "71": _communes("71270 Mâcon"),
    "01": _communes("01053 Bourg-en-Bresse"),
    "05": _communes("05061 Gap"),
    "12": _communes("12202 Rodez"),
    "81": _communes("81004 Albi"),
    "82": _communes("82121 Montauban"),
    "47": _communes("47001 Agen"),
    "24": _communes("24322 Périgueux"),
    "19": _communes("19031 Brive-la-Gaillarde"),
    "65": _communes("65440 Tarbes"),
    "40": _communes("40192 Mont-de-Marsan"),
    "36": _communes("36044 Châteauroux"),
    "971": _communes("97120 Pointe-à-Pitre"),
    "972": _communes("97209 Fort-de-France"),
    "973": _communes("97302 Cayenne"),
}
ALL_COMMUNES = tuple(
    commune for communes in COMMUNES_BY_DEPARTEMENT.values() for commune in communes
)

STREET_KINDS = _flat(
    "rue; rue; rue; avenue; boulevard; impasse; allée; chemin; place; route; résidence; quai"
)
STREET_NAMES = _flat(
    "des Lilas; Victor Hugo; Jean Jaurès; de la République; Pasteur; du Général de Gaulle;"
    " des Écoles; de la Gare; des Peupliers; Gambetta; de l'Église; Émile Zola; des Acacias;"
    " du Moulin; Jules Ferry; de Verdun; Saint-Exupéry; des Tilleuls; de la Paix; Voltaire;"
    " Anatole France; du 8 Mai 1945; des Mimosas; de Bretagne; Louis Pasteur; Carnot;"
    " Aristide Briand; des Roses; de la Liberté; du Château; Charles de Gaulle; des Prés"
)
EMAIL_DOMAINS = _flat(
    "gmail.com; orange.fr; free.fr; laposte.net; hotmail.fr; wanadoo.fr; sfr.fr; yahoo.fr;"
    " outlook.fr; icloud.com"
)


def surname_for(rng: Rng, origin: str, departement: str) -> str:
    if origin != "france":
        return rng.draw(FOREIGN_SURNAMES[origin])
    if rng.chance(0.03):
        return rng.pick(PARTICLE_SURNAMES)
    if departement in {"29", "22", "56", "35"} and rng.chance(0.35):
        return rng.draw(BRETON_SURNAMES)
    if departement in {"2A", "2B"} and rng.chance(0.5):
        return rng.draw(CORSICAN_SURNAMES)
    if departement == "974" and rng.chance(0.5):
        return rng.draw(REUNION_SURNAMES)
    return rng.draw(FRENCH_SURNAMES)


def _cohort(birth_year: int) -> int:
    for upper in FRENCH_FIRST:
        if birth_year <= upper:
            return upper
    return 9999


def first_name(rng: Rng, sex: str, birth_year: int, origin: str) -> str:
    # Families of foreign origin born in France often pick a name of the French fashion.
    if origin != "france" and (birth_year < 1990 or rng.chance(0.5)):
        return rng.draw(FOREIGN_FIRST[origin][sex])
    return rng.draw(FRENCH_FIRST[_cohort(birth_year)][sex])


def first_names(rng: Rng, sex: str, birth_year: int, origin: str) -> str:
    """One to three given names, comma-separated as on the civil-status record."""
    names = [first_name(rng, sex, birth_year, origin)]
    count = 1 + (rng.chance(0.55) + rng.chance(0.3 if birth_year < 1970 else 0.15))
    older = max(1900, birth_year - 30)
    while len(names) < count:
        # Middle names often honour grandparents: an older generation's fashion.
        name = first_name(rng, sex, older if rng.chance(0.6) else birth_year, origin)
        if name not in names:
            names.append(name)
        else:
            count -= 1
    return ", ".join(names)


def phone_number(rng: Rng) -> str:
    """A French number in one of the ways people write them."""
    mobile = rng.chance(0.7)
    prefix = rng.pick(("6", "7")) if mobile else rng.pick(("1", "2", "3", "4", "5", "9"))
    digits = prefix + "".join(str(rng.below(10)) for _ in range(8))
    pairs = [digits[i : i + 2] for i in range(1, 9, 2)]
    style = rng.below(6)
    if style == 0:
        return "0" + digits[0] + " " + " ".join(pairs)
    if style == 1:
        return "0" + digits[0] + "." + ".".join(pairs)
    if style == 2:
        return "0" + digits
    if style == 3:
        return "+33 " + digits[0] + " " + " ".join(pairs)
    if style == 4:
        return "+33" + digits
    return "0" + digits[0] + "-" + "-".join(pairs)


def street_address(rng: Rng) -> str:
    number = str(rng.between(1, 180))
    if rng.chance(0.08):
        number += rng.pick((" bis", " ter"))
    return f"{number} {rng.pick(STREET_KINDS)} {rng.pick(STREET_NAMES)}"
