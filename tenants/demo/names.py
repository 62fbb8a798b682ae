"""Seeded synthetic Vietnamese names (NFC) and place names for the demo."""

from __future__ import annotations

import random
import unicodedata

FAMILY = (
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Vũ", 4),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
    ("Đinh", 2),
    ("Trịnh", 2),
    ("Phan", 2),
    ("Lương", 1),
    ("Mai", 1),
    ("Tạ", 1),
)
MIDDLE_MALE = ("Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân", "Thanh", "Công", "Đình", "Ngọc")
MIDDLE_FEMALE = ("Thị", "Thu", "Thanh", "Ngọc", "Minh", "Hồng", "Phương", "Kim", "Thúy")
GIVEN_MALE = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hùng",
    "Huy",
    "Khánh",
    "Long",
    "Mạnh",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Thắng",
    "Thành",
    "Toàn",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
)
GIVEN_FEMALE = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hương",
    "Lan",
    "Liên",
    "Linh",
    "Loan",
    "Mai",
    "Nga",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phượng",
    "Thảo",
    "Trang",
    "Vân",
    "Yến",
)
PLACE_FIRST = ("Gia", "Khánh", "Ninh", "Đông", "Quang", "Trường", "Phú", "Văn", "Thượng", "Lạc")
PLACE_SECOND = ("Hòa", "Thịnh", "Phong", "Tân", "Hưng", "Lộc", "Sơn", "Phú", "Thành", "Mỹ", "Lâm")

_FAMILY_NAMES = [name for name, _ in FAMILY]
_FAMILY_WEIGHTS = [weight for _, weight in FAMILY]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def full_name(rng: random.Random) -> str:
    """A family, middle and given name, male or female."""
    family = rng.choices(_FAMILY_NAMES, _FAMILY_WEIGHTS)[0]
    if rng.random() < 0.55:
        return nfc(f"{family} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}")
    return nfc(f"{family} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}")


def place_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct commune-like names."""
    pool = [f"{a} {b}" for a in PLACE_FIRST for b in PLACE_SECOND]
    rng.shuffle(pool)
    return [nfc(name) for name in pool[:count]]
