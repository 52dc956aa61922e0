"""Fake people and places: names from many cultures, departments, locations.

Latin-script names are transliterated to ASCII for e-mail addresses; names in other
scripts carry their romanisation (display, ascii).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Culture:
    first_names: tuple[str | tuple[str, str], ...]
    last_names: tuple[str | tuple[str, str], ...]
    family_name_first: bool = False  # written "李伟", no space


CULTURES = (
    Culture(
        ("James", "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Grace", "Harry", "Chloe"),
        ("Smith", "Johnson", "Taylor", "Wilson", "Evans", "Walker", "Hughes", "Turner", "Clarke"),
    ),
    Culture(
        ("María", "José", "Lucía", "Alejandro", "Sofía", "Javier", "Valentina", "Andrés", "Inés"),
        ("García", "Martínez", "López", "Hernández", "Pérez", "Sánchez", "Núñez", "Jiménez"),
    ),
    Culture(
        ("João", "Ana", "Tiago", "Beatriz", "Gonçalo", "Mariana", "Rafael", "Leonor"),
        ("Silva", "Santos", "Ferreira", "Oliveira", "Costa", "Gonçalves", "Araújo", "Moreno"),
    ),
    Culture(
        ("Émilie", "Théo", "Chloé", "Hélène", "Léa", "François", "Zoé", "Jérôme", "Amélie"),
        ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Chevalier", "Bérard"),
    ),
    Culture(
        ("Søren", "Åsa", "Bjørn", "Ingrid", "Mikkel", "Sigrid", "Astrid", "Jørgen", "Linnéa"),
        ("Hansen", "Jørgensen", "Nielsen", "Lindqvist", "Bråthen", "Halvorsen", "Økland"),
    ),
    Culture(
        ("Jürgen", "Lena", "Lukas", "Anja", "Jörg", "Franziska", "Maximilian", "Käthe"),
        ("Müller", "Schmidt", "Schröder", "Weiß", "Köhler", "Becker", "Krüger", "Fischer"),
    ),
    Culture(
        ("Łukasz", "Agnieszka", "Paweł", "Małgorzata", "Krzysztof", "Zofia", "Michał"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Zieliński", "Dąbrowski"),
    ),
    Culture(
        ("Ayşe", "Mehmet", "Zeynep", "Emre", "Elif", "Burak", "Gülşen", "Oğuz"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Doğan"),
    ),
    Culture(
        ("Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Emeka", "Funmilayo", "Kwame", "Abena"),
        ("Okafor", "Adeyemi", "Eze", "Nwosu", "Balogun", "Okonkwo", "Mensah", "Asante"),
    ),
    Culture(
        ("Priya", "Arjun", "Ananya", "Rahul", "Kavya", "Vikram", "Deepa", "Rohan", "Meera"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Banerjee", "Krishnan"),
    ),
    Culture(
        (
            ("伟", "wei"),
            ("芳", "fang"),
            ("娜", "na"),
            ("敏", "min"),
            ("静", "jing"),
            ("磊", "lei"),
            ("婷", "ting"),
            ("俊杰", "junjie"),
            ("晓明", "xiaoming"),
        ),
        (
            ("李", "li"),
            ("王", "wang"),
            ("张", "zhang"),
            ("刘", "liu"),
            ("陈", "chen"),
            ("黄", "huang"),
            ("赵", "zhao"),
            ("周", "zhou"),
        ),
        family_name_first=True,
    ),
    Culture(
        ("Haruto", "Yui", "Sōta", "Aoi", "Ren", "Hina", "Yūki", "Kenji"),
        ("Satō", "Suzuki", "Takahashi", "Tanaka", "Itō", "Watanabe", "Yamamoto", "Nakamura"),
    ),
    Culture(
        ("Linh", "Minh", "Hương", "Tuấn", "Thảo", "Quang", "Ngọc", "Đức"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng"),
    ),
    Culture(
        ("Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour", "Hassan", "Amira", "Salma"),
        ("Haddad", "Khalil", "Mansour", "Nasser", "Al-Farsi", "Saleh", "Hamdan", "Aziz"),
    ),
)

DEPARTMENTS = (
    "Engineering",
    "Product",
    "Design",
    "Data",
    "Security",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Operations",
    "Legal",
    "Customer Success",
)

# (location, UTC offset in minutes); fixed offsets keep the generator simple (no DST).
LOCATIONS = (
    ("Lisbon", 0),
    ("London", 0),
    ("Dublin", 0),
    ("Berlin", 60),
    ("Paris", 60),
    ("Warsaw", 60),
    ("Oslo", 60),
    ("Lagos", 60),
    ("Nairobi", 180),
    ("Istanbul", 180),
    ("Dubai", 240),
    ("Bangalore", 330),
    ("Singapore", 480),
    ("Shanghai", 480),
    ("Tokyo", 540),
    ("São Paulo", -180),
    ("New York", -300),
    ("Toronto", -300),
    ("Mexico City", -360),
    ("Remote", 0),
    ("Remote", 0),
)

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss", "ı": "i", "æ": "ae"}
)


def ascii_form(name: str | tuple[str, str]) -> str:
    """Lower-case ASCII spelling for e-mail addresses."""
    if isinstance(name, tuple):
        return name[1]
    decomposed = unicodedata.normalize("NFKD", name.translate(_SPECIAL_LETTERS))
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return letters.lower().replace(" ", "").replace("'", "")


def display_form(name: str | tuple[str, str]) -> str:
    return name[0] if isinstance(name, tuple) else name


def _all_name_pairs() -> tuple[tuple[Culture, int, int], ...]:
    return tuple(
        (culture, first, last)
        for culture in CULTURES
        for first in range(len(culture.first_names))
        for last in range(len(culture.last_names))
    )


NAME_PAIRS = _all_name_pairs()


def person_name(index: int) -> tuple[str, str]:
    """(full name, e-mail local part) of the index-th name pair."""
    culture, first_index, last_index = NAME_PAIRS[index]
    first = culture.first_names[first_index]
    last = culture.last_names[last_index]
    if culture.family_name_first:
        full_name = display_form(last) + display_form(first)
    else:
        full_name = f"{display_form(first)} {display_form(last)}"
    return full_name, f"{ascii_form(first)}.{ascii_form(last)}"
