"""Telephone numbers of a synthetic Chinese operator: MSISDN plans, service numbers, written formats.

Numbers are kept as ``int64`` national numbers (``13812345678``, ``10086``,
``4008001234``) until the writer renders them, so every step stays vectorised.

Mobile numbers follow the national numbering plan of mainland China (country
code 86, 11-digit numbers beginning with ``1``; the first three digits name the
operator).  Our operator owns a China-Mobile-like set of prefixes; numbers of
the other operators use theirs.  A few per cent of our customers carry a number
ported in from another operator (mobile number portability has been national
since 2019), so the prefix alone never tells on-net from off-net.

Service numbers are short codes (customer service, banks, public hotlines),
``400`` call-centre numbers and outbound telemarketing lines on the
virtual-operator ranges ``170``/``171``, which is where such lines are mostly
found in practice.

Records show numbers in the mixed formats real mediation systems emit: plain
national (most), ``+86`` E.164, ``0086`` international-prefix and bare ``86``.
Short codes and call-centre numbers are always written plainly.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COUNTRY_CODE",
    "FORMAT_PREFIXES",
    "SHORT_CODES",
    "mobile_numbers",
    "call_centre_numbers",
    "choose_formats",
]

COUNTRY_CODE = "86"

# Three-digit mobile prefixes (operator ranges).
OWN_PREFIXES = np.array([134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 184, 187, 188, 195, 198])
OTHER_PREFIXES = np.array([130, 131, 132, 133, 153, 155, 156, 166, 173, 175, 176, 177, 180, 181, 185, 186, 189, 191, 199])
TELEMARKETING_PREFIXES = np.array([170, 171])

# Short codes with who answers them; the weight is their share of calls to short codes.
SHORT_CODES: tuple[tuple[int, str, float], ...] = (
    (10086, "operator customer service", 30.0),
    (10010, "other operator customer service", 1.0),
    (10000, "other operator customer service", 1.0),
    (95588, "bank", 8.0),
    (95533, "bank", 6.0),
    (95599, "bank", 5.0),
    (95555, "bank", 4.0),
    (95566, "bank", 3.0),
    (95511, "insurance", 3.0),
    (95518, "insurance", 1.5),
    (95598, "electricity utility", 3.0),
    (12306, "railway tickets", 4.0),
    (12345, "government hotline", 3.0),
    (12315, "consumer complaints", 1.0),
    (114, "directory enquiries", 2.0),
)

# Written forms of a national number: index 0 plain, 1 "+86", 2 "0086", 3 "86".
FORMAT_PREFIXES = ("", "+86", "0086", "86")


def _unique_draws(rng: np.random.Generator, n: int, draw) -> np.ndarray:
    """``n`` distinct values from ``draw(rng, k)``, in the order drawn (deterministic for a seed)."""
    out = np.empty(0, dtype=np.int64)
    k = n + n // 20 + 16
    while out.size < n:
        cand = np.concatenate([out, draw(rng, k)])
        _, first = np.unique(cand, return_index=True)
        out = cand[np.sort(first)]
        k = 2 * (n - out.size) + 16
    return out[:n]


def mobile_numbers(rng: np.random.Generator, own: int, other: int, telemarketing: int, ported_in: float = 0.03) -> dict[str, np.ndarray]:
    """Distinct 11-digit mobile numbers for our customers, other operators' customers and telemarketing lines.

    Parameters
    ----------
    rng : numpy.random.Generator
    own, other, telemarketing : int
        How many numbers of each kind.
    ported_in : float, default 0.03
        Share of our customers whose number carries another operator's prefix.

    Returns
    -------
    dict with int64 arrays ``own``, ``other``, ``telemarketing``; no number occurs twice.
    """
    total = own + other + telemarketing
    n_ported = int(round(own * ported_in))
    kinds = np.concatenate(
        [
            np.zeros(own - n_ported, dtype=np.int8),  # own prefix
            np.ones(n_ported + other, dtype=np.int8),  # other operators' prefixes
            np.full(telemarketing, 2, dtype=np.int8),
        ]
    )
    tables = (OWN_PREFIXES, OTHER_PREFIXES, TELEMARKETING_PREFIXES)

    def draw(r: np.random.Generator, k: int) -> np.ndarray:
        return r.integers(0, 10**8, size=k, dtype=np.int64)

    # Draw subscriber parts, then attach prefixes; uniqueness is checked on the full number.
    numbers = np.empty(total, dtype=np.int64)
    for kind, table in enumerate(tables):
        idx = np.flatnonzero(kinds == kind)
        if idx.size == 0:
            continue
        prefix = table[rng.integers(0, table.size, size=idx.size)]
        numbers[idx] = prefix * 10**8 + draw(rng, idx.size)
    # Replace the (rare) collisions with fresh draws of the same kind.
    while True:
        _, first = np.unique(numbers, return_index=True)
        dup_mask = np.ones(total, dtype=bool)
        dup_mask[first] = False
        dups = np.flatnonzero(dup_mask)
        if dups.size == 0:
            break
        for kind, table in enumerate(tables):
            idx = dups[kinds[dups] == kind]
            if idx.size:
                numbers[idx] = table[rng.integers(0, table.size, size=idx.size)] * 10**8 + draw(rng, idx.size)
    own_numbers = numbers[:own].copy()
    rng.shuffle(own_numbers)  # ported numbers anywhere in the customer base
    return {
        "own": own_numbers,
        "other": numbers[own : own + other],
        "telemarketing": numbers[own + other :],
    }


def call_centre_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct ten-digit ``400`` call-centre numbers (``400xxxxxxx``)."""
    return _unique_draws(rng, n, lambda r, k: 400 * 10**7 + r.integers(0, 10**7, size=k, dtype=np.int64))


def choose_formats(rng: np.random.Generator, number: np.ndarray, on_net: np.ndarray) -> np.ndarray:
    """Pick, per record field, how a number is written (index into :data:`FORMAT_PREFIXES`).

    Our customers' numbers are mostly written plainly; interconnect records of
    other operators' numbers carry a country code more often.  Numbers that are
    not 11-digit mobile numbers (short codes, ``400`` numbers) are always plain.
    """
    n = number.size
    u = rng.random(n)
    # cumulative probabilities of formats 0..3
    p_on = np.array([0.90, 0.94, 0.97, 1.0])
    p_off = np.array([0.70, 0.80, 0.88, 1.0])
    fmt = np.where(on_net, np.searchsorted(p_on, u, side="right"), np.searchsorted(p_off, u, side="right")).astype(np.int8)
    mobile = (number >= 10**10) & (number < 2 * 10**10)
    fmt[~mobile] = 0
    return np.minimum(fmt, 3)
