"""Write the demo's labeled sample: short English sentences with PER, LOC and FOOD entities.

Written for veclift (no outside data set is copied). Training and test sentences draw their
entity words from disjoint lists, so every test entity is unseen in training: the test set
has "apple" where training had "orange", "Vienna" where it had "Paris". Half the templates
give no hint of the type ("I keep thinking about X"), so only the word's vector can tell it.
Rerun to regenerate veclift/resources/demo/{train,test}.conll (seeded, deterministic).
"""

from __future__ import annotations

import random
from pathlib import Path

TRAIN = {
    "PER": ["John", "Mary", "David", "Sarah", "Michael", "Anna", "Peter", "Julia", "Thomas", "Laura",
            "Robert", "Maria", "James", "Linda", "Daniel", "Helen"],
    "LOC": ["Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Chicago", "Boston", "Toronto",
            "Sydney", "Amsterdam", "Munich", "Denver", "Seattle", "Athens", "Cairo"],
    "FOOD": ["orange", "banana", "mango", "grape", "lemon", "cherry", "strawberry", "pear", "plum",
             "pasta", "bread", "cheese", "potato", "carrot", "tomato", "onion"],
}
TEST = {
    "PER": ["Kevin", "Emily", "Brian", "Rachel", "Steven", "Karen", "Jason", "Nicole", "Patrick",
            "Monica", "Gregory", "Susan"],
    "LOC": ["Vienna", "Lisbon", "Prague", "Oslo", "Dublin", "Warsaw", "Brussels", "Stockholm",
            "Helsinki", "Budapest", "Geneva", "Istanbul"],
    "FOOD": ["apple", "peach", "kiwi", "apricot", "papaya", "pineapple", "melon", "coconut",
             "avocado", "rice", "noodles", "soup"],
}
# Templates whose words say nothing about the entity's type: only its vector can.
AMBIGUOUS = [
    "I keep thinking about {X} .",
    "Everyone was talking about {X} yesterday .",
    "We wrote a long article about {X} .",
    "My sister has never liked {X} .",
    "The documentary about {X} was surprisingly good .",
    "Nobody at the table mentioned {X} .",
    "There is a new book about {X} .",
    "She asked me what I thought of {X} .",
    "The children drew a picture of {X} .",
    "I have heard a lot about {X} lately .",
    "His favourite topic is {X} .",
    "They argued about {X} for an hour .",
]
TYPED = {
    "PER": ["{X} said the meeting would start late .", "Yesterday {X} called me from work .",
            "I met {X} and {Y} at the station .", "{X} is the new manager of the team ."],
    "LOC": ["We flew to {X} last summer .", "The conference takes place in {X} this year .",
            "She moved from {X} to {Y} in May .", "Prices in {X} went up again ."],
    "FOOD": ["For breakfast I ate some {X} .", "Add a little {X} to the salad .",
             "He bought {X} and {Y} at the market .", "The dish tastes of {X} ."],
}


def sentence(template: str, entities: dict[str, list[str]], rng: random.Random) -> list[tuple[str, str]]:
    """Fill a template: each slot gets a word of one type (typed slots use the template's type)."""
    kind = next((k for k, ts in TYPED.items() if template in ts), None) or rng.choice(sorted(entities))
    chosen = rng.sample(entities[kind], 2)
    rows = []
    for token in template.split():
        if token in ("{X}", "{Y}"):
            word = chosen[0] if token == "{X}" else chosen[1]
            rows.append((word, f"B-{kind}"))
        else:
            rows.append((token, "O"))
    return rows


def generate(entities: dict[str, list[str]], count: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    templates = AMBIGUOUS * 2 + [t for ts in TYPED.values() for t in ts]
    return [sentence(rng.choice(templates), entities, rng) for _ in range(count)]


def write(sentences: list[list[tuple[str, str]]], path: Path) -> None:
    path.write_text("".join("".join(f"{w} {t}\n" for w, t in s) + "\n" for s in sentences), encoding="utf-8")


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "veclift" / "resources" / "demo"
    write(generate(TRAIN, 400, seed=1), out / "train.conll")
    write(generate(TEST, 200, seed=2), out / "test.conll")
