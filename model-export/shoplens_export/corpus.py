"""A small, deterministic corpus of fashion questions and answers for training test tokenizers.

The corpus is generated from fixed word lists so that it is reproducible without any download and
reviewable in code. Its only purpose is to give the tiny and bench tokenizers plausible byte-level
BPE merges: no model is trained on it.
"""

ITEMS = [
    "dress", "shirt", "t-shirt", "blouse", "jacket", "coat", "sweater", "hoodie", "skirt", "jeans",
    "trousers", "shorts", "sneakers", "boots", "sandals", "heels", "scarf", "hat", "cap", "bag",
    "backpack", "belt", "watch", "necklace", "earrings", "sunglasses", "suit", "vest", "cardigan",
    "leggings", "swimsuit", "pajamas", "gloves", "socks", "tie",
]
COLORS = [
    "red", "blue", "green", "black", "white", "grey", "navy", "beige", "brown", "pink", "purple",
    "yellow", "orange", "olive", "burgundy", "cream", "teal", "silver", "gold",
]
MATERIALS = [
    "cotton", "wool", "linen", "silk", "denim", "leather", "suede", "polyester", "cashmere",
    "velvet", "nylon", "knit",
]
PATTERNS = ["striped", "plain", "floral", "checked", "dotted", "printed", "embroidered", "ribbed"]
OCCASIONS = ["work", "a wedding", "the beach", "running", "a party", "winter", "summer", "travel"]
PEOPLE = ["a woman", "a man", "a child", "a model", "two people"]


def lines():
    """Returns the corpus as a list of lines, always the same lines in the same order."""
    out = []
    for i, item in enumerate(ITEMS):
        color = COLORS[i % len(COLORS)]
        material = MATERIALS[i % len(MATERIALS)]
        pattern = PATTERNS[i % len(PATTERNS)]
        occasion = OCCASIONS[i % len(OCCASIONS)]
        person = PEOPLE[i % len(PEOPLE)]
        out += [
            f"Question: what color is the {item}? Answer: {color}.",
            f"Question: what is the {item} made of? Answer: {material}.",
            f"Question: is the {item} {pattern}? Answer: yes.",
            f"Question: is this {item} good for {occasion}? Answer: no.",
            f"{person} wearing a {color} {material} {item}",
            f"a {pattern} {color} {item} on a white background",
            f"Question: what is {person} wearing? Answer: a {color} {item}.",
            f"Question: what would go well with this {item}? Answer: a {COLORS[(i + 3) % len(COLORS)]} "
            f"{ITEMS[(i + 7) % len(ITEMS)]}.",
        ]
    for color in COLORS:
        for material in MATERIALS:
            out.append(f"{color} {material}")
    return out
