"""A generated lending data set for ``credit-mlp``, with fairness gaps injected on purpose.

Each row is a loan applicant with eight numeric features (the model's input ``x``) and
three sensitive attributes kept out of ``x`` and stored as metadata columns
(``meta_sex``, ``meta_age_band``, ``meta_group``). The label ``y`` is 1 if the loan was
repaid.

How the label is made: a latent creditworthiness score from the features
(income, debt ratio, history, late payments, ...) plus Gaussian noise; ``y = score > 0``.
Then the **injected, documented differences** (``INJECTED`` below), so that gaps exist and
are known in advance:

- **base rates**: group ``D`` applicants get lower incomes and group ``C`` a higher debt
  ratio (structural disadvantage through the features), so their repayment base rates
  are lower; ``18-25`` applicants have a short credit history (lower base rate);
- **label noise**: labels of group ``D`` are flipped with probability 0.20, of
  ``18-25`` with 0.10, of everyone else with 0.02, so the model is least accurate for
  those groups (the noise is in the recorded outcome, not in the features);
- ``sex`` has a small income gap (women's incomes 8% lower) and no other effect.
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES = (
    "income_k",
    "debt_ratio",
    "credit_history_years",
    "open_accounts",
    "late_payments",
    "loan_amount_k",
    "employment_years",
    "savings_k",
)
SEXES = ("F", "M")
AGE_BANDS = ("18-25", "25-40", "40-60", "60+")
GROUPS = ("A", "B", "C", "D")
INJECTED = {
    "income_factor": {"group": {"D": 0.70}, "sex": {"F": 0.92}},
    "debt_ratio_shift": {"group": {"C": 0.12}},
    "label_flip_probability": {"group": {"D": 0.20}, "age_band": {"18-25": 0.10}, "default": 0.02},
}


def generate_credit(n: int, *, seed: int) -> dict[str, np.ndarray]:
    """``n`` applicants: ``x`` float32 ``[n, 8]``, ``y`` int64 0/1, ``feature_names``, ``meta_*``."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(SEXES, n)
    age_band = rng.choice(AGE_BANDS, n, p=[0.2, 0.35, 0.3, 0.15])
    group = rng.choice(GROUPS, n, p=[0.4, 0.3, 0.2, 0.1])
    age_index = np.searchsorted(AGE_BANDS, age_band)  # sorted tuple: index is the band's rank
    age_years = np.array([21.5, 32.5, 50.0, 67.0])[age_index] + rng.normal(0, 3, n)

    income = rng.lognormal(np.log(48), 0.45, n)
    income *= np.where(group == "D", INJECTED["income_factor"]["group"]["D"], 1.0)
    income *= np.where(sex == "F", INJECTED["income_factor"]["sex"]["F"], 1.0)
    debt_ratio = np.clip(
        rng.beta(2, 5, n) + np.where(group == "C", INJECTED["debt_ratio_shift"]["group"]["C"], 0), 0, 1
    )
    history = np.clip(age_years - 18 - rng.uniform(0, 4, n), 0, None)
    open_accounts = rng.poisson(3 + history / 10)
    late = rng.poisson(0.6 + 1.5 * debt_ratio)
    loan = rng.lognormal(np.log(15), 0.6, n)
    employment = np.clip(history * rng.uniform(0.4, 1.0, n), 0, None)
    savings = rng.lognormal(np.log(5 + income / 10), 0.7, n)

    score = (
        1.2 * np.log(income / 45)
        - 3.0 * (debt_ratio - 0.3)
        + 0.05 * (history - 10)
        - 0.45 * (late - 1)
        - 0.6 * np.log(loan / 15)
        + 0.3 * np.log(savings / 10)
        + 0.02 * employment
        + 0.5
        + rng.normal(0, 0.6, n)
    )
    y = (score > 0).astype(np.int64)
    flip = np.full(n, INJECTED["label_flip_probability"]["default"])
    flip = np.where(age_band == "18-25", INJECTED["label_flip_probability"]["age_band"]["18-25"], flip)
    flip = np.where(group == "D", INJECTED["label_flip_probability"]["group"]["D"], flip)
    y = np.where(rng.uniform(0, 1, n) < flip, 1 - y, y)

    x = np.stack([income, debt_ratio, history, open_accounts, late, loan, employment, savings], axis=1)
    return {
        "x": x.astype(np.float32),
        "y": y,
        "feature_names": np.array(FEATURE_NAMES),
        "meta_sex": sex.astype(str),
        "meta_age_band": age_band.astype(str),
        "meta_group": group.astype(str),
    }
