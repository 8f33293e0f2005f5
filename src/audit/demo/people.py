"""Plausible people: resident ID numbers, Tibetan and Han names, bank accounts, credit codes.

Everything is vectorised over numpy arrays so that a million and a half people take
seconds. Identifiers are built digit by digit in uint8 matrices and viewed as byte strings.
"""

from __future__ import annotations

import numpy as np

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
OLD_DUILONG = "540125"
"""Area code of the old 堆龙德庆县: still written in IDs of people registered there before 2015."""

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Two-syllable Tibetan name parts; a full name is two parts (扎西 + 多吉).
TIBETAN_ANY = ("次仁", "扎西", "格桑", "达瓦", "尼玛", "米玛", "普布", "边巴", "巴桑", "白玛", "索朗", "旦增")
TIBETAN_MALE = (
    "多吉",
    "平措",
    "顿珠",
    "罗布",
    "强巴",
    "洛桑",
    "阿旺",
    "贡嘎",
    "晋美",
    "群培",
    "加措",
    "欧珠",
)
TIBETAN_FEMALE = (
    "卓玛",
    "央金",
    "拉姆",
    "德吉",
    "曲珍",
    "白珍",
    "次珍",
    "措姆",
    "旺姆",
    "玉珍",
    "央宗",
    "桑姆",
)
HAN_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林")
HAN_MALE = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "刚", "建国", "志强", "海峰", "文斌", "俊")
HAN_FEMALE = ("芳", "娜", "秀英", "敏", "静", "丽", "艳", "娟", "霞", "秀兰", "桂英", "丽华", "婷", "雪梅")

# Debit-card issuer prefixes of banks with branches in Lhasa (ABC, CCB, ICBC, BOC, PSBC).
CARD_BINS = ("622848", "621700", "622202", "621661", "621799")


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as an (n, width) uint8 matrix of their decimal digits."""
    out = np.empty((len(values), width), dtype=np.uint8)
    v = values.astype(np.int64).copy()
    for pos in range(width - 1, -1, -1):
        out[:, pos] = v % 10
        v //= 10
    return out


def _text(matrix_ascii: np.ndarray) -> np.ndarray:
    """An (n, w) uint8 matrix of ASCII bytes as an array of str."""
    n, w = matrix_ascii.shape
    return np.ascontiguousarray(matrix_ascii).view(f"S{w}").reshape(n).astype(f"U{w}")


def id_check_char(bodies: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (ASCII bytes) of an (n, 17) digit matrix."""
    return ID_CHECK[(bodies.astype(np.int64) @ ID_WEIGHTS) % 11]


def resident_ids(
    rng: np.random.Generator,
    areas: np.ndarray,
    births: np.ndarray,
    male: np.ndarray,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """Valid 18-character resident IDs, unique among themselves and not in ``avoid``.

    ``areas`` are 6-digit codes (str), ``births`` datetime64[D], ``male`` bool. The order code
    (characters 15-17) is random with the sex parity of GB 11643: odd for men.
    """
    n = len(areas)
    ymd = births.astype("datetime64[D]")
    years = ymd.astype("datetime64[Y]").astype(np.int64) + 1970
    months = ymd.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (ymd - ymd.astype("datetime64[M]")).astype(np.int64) + 1
    # The first 14 characters as one integer, so uniqueness is an integer sort, not a string one.
    stem = areas.astype(np.int64) * 100_000_000 + years * 10_000 + months * 100 + days
    taken = np.array([], dtype=np.int64) if avoid is None else id_bodies(avoid)
    keys = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(1000):
        if not len(todo):
            break
        # Two free digits and a sex-parity digit; only the collisions are drawn again.
        order = rng.integers(0, 100, len(todo)) * 10 + rng.integers(0, 5, len(todo)) * 2 + male[todo]
        keys[todo] = stem[todo] * 1000 + order
        _, first = np.unique(keys, return_index=True)
        clash = np.ones(n, dtype=bool)
        clash[first] = False
        clash |= np.isin(keys, taken)
        todo = np.flatnonzero(clash)
    else:  # 500 order codes per sex, area and day: more people than that cannot all get one
        raise RuntimeError("demo: too many people share an area code and birth date for unique IDs")
    bodies = _digits(keys, 17)
    full = np.concatenate([bodies + ord("0"), id_check_char(bodies)[:, None]], axis=1)
    return _text(full.astype(np.uint8))


def id_bodies(ids: np.ndarray) -> np.ndarray:
    """The first 17 digits of IDs (str or bytes) as int64, without a Python object per ID."""
    raw = np.ascontiguousarray(np.asarray(ids).astype("S18")).view(np.uint8).reshape(-1, 18)
    digits = raw[:, :17].astype(np.int64) - ord("0")
    return digits @ (10 ** np.arange(16, -1, -1, dtype=np.int64))


def break_check(person_id: str) -> str:
    """The same ID with a wrong check character (a typo a checksum catches)."""
    right = person_id[17]
    return person_id[:17] + ("0" if right == "1" else "1")


def names(rng: np.random.Generator, male: np.ndarray, han: np.ndarray) -> np.ndarray:
    """Names: two Tibetan parts (the second one gendered) or a Han surname and given name."""
    n = len(male)
    first_pool = np.array(TIBETAN_ANY + TIBETAN_MALE[:4])
    # Women's first part comes from the common pool only; men's may also be 多吉, 平措, ...
    first = first_pool[rng.integers(0, np.where(male, len(first_pool), len(TIBETAN_ANY)))]
    second = np.where(
        male,
        np.array(TIBETAN_MALE)[rng.integers(0, len(TIBETAN_MALE), n)],
        np.array(TIBETAN_FEMALE)[rng.integers(0, len(TIBETAN_FEMALE), n)],
    )
    second = np.where(first == second, np.array(TIBETAN_MALE)[-1], second)  # no 多吉多吉
    tibetan = np.char.add(first, second)
    given = np.where(
        male,
        np.array(HAN_MALE)[rng.integers(0, len(HAN_MALE), n)],
        np.array(HAN_FEMALE)[rng.integers(0, len(HAN_FEMALE), n)],
    )
    hans = np.char.add(np.array(HAN_SURNAMES)[rng.integers(0, len(HAN_SURNAMES), n)], given)
    return np.where(han, hans, tibetan)


def luhn_digit(bodies: np.ndarray) -> np.ndarray:
    """The Luhn check digit of each row of an (n, w) digit matrix."""
    doubled = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)
    total = np.zeros(len(bodies), dtype=np.int64)
    for from_right, col in enumerate(bodies[:, ::-1].T):
        total += doubled[col] if from_right % 2 == 0 else col
    return (10 - total % 10) % 10


def bank_accounts(
    rng: np.random.Generator, n: int, passbook: np.ndarray, avoid: np.ndarray | None = None
) -> np.ndarray:
    """Distinct 19-digit accounts: debit cards (Luhn-valid) or rural passbooks (Luhn fails).

    Rural credit-cooperative passbook numbers carry no Luhn digit; a failing one is a soft
    flag for the inspector, never a reason to reject the row.
    """
    out = np.empty(n, dtype="U19")
    todo = np.arange(n)
    while len(todo):
        k = len(todo)
        bins = np.array(CARD_BINS)[rng.integers(0, len(CARD_BINS), k)]
        body = np.concatenate([_digits(bins.astype(np.int64), 6), rng.integers(0, 10, (k, 12))], axis=1)
        body = body.astype(np.uint8)
        book = passbook[todo]
        body[book, 0:2] = (2, 3)  # passbooks of the rural credit union start 23
        check = luhn_digit(body)
        check = np.where(book, (check + 1 + rng.integers(0, 9, k)) % 10, check)  # never the Luhn digit
        out[todo] = _text(np.concatenate([body, check[:, None]], axis=1).astype(np.uint8) + ord("0"))
        _, first = np.unique(out, return_index=True)
        clash = np.ones(n, dtype=bool)
        clash[first] = False
        if avoid is not None:
            clash |= np.isin(out, avoid.astype("U19"))
        todo = np.flatnonzero(clash)
    return out


def org_code(rng: np.random.Generator) -> str:
    """A 9-character organisation code (GB 11714): 8 digits and its check character."""
    body = [int(d) for d in rng.integers(0, 10, 8)]
    c = 11 - sum(d * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    check = "X" if c == 10 else "0" if c == 11 else str(c)
    return "".join(map(str, body)) + check


def uscc(authority_type: str, division: str, rng: np.random.Generator) -> str:
    """A valid unified social credit code: authority and type (2), division (6), org code (9), check."""
    body = authority_type + division + org_code(rng)
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def break_uscc(code: str) -> str:
    """The same credit code with a wrong check character."""
    value = USCC_ALPHABET.index(code[17])
    return code[:17] + USCC_ALPHABET[(value + 7) % 31]
