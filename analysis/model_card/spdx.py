"""SPDX license identifiers, checked offline against a shipped list.

The list (``spdx_license_ids.txt`` beside this module) holds the common identifiers from
https://spdx.org/licenses/; matching is case-insensitive, as the SPDX specification says,
and returns the canonical spelling. Besides listed ids, ``proprietary`` (the Model Card
Toolkit schema's word for an unlicensed model) and ``LicenseRef-<idstring>`` (SPDX's own
form for licenses without an id) are accepted. Anything else should go in ``custom_text``.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from pathlib import Path

from analysis.errors import AnalysisInputError, describe_choices

SPDX_LIST_PATH = Path(__file__).with_name("spdx_license_ids.txt")
PROPRIETARY = "proprietary"
_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")

UNKNOWN_SPDX_MESSAGE = (
    "license identifier {value!r} is not a known SPDX identifier{hint}; use an id from https://spdx.org/licenses/ "
    "(e.g. 'Apache-2.0' or 'MIT'), 'proprietary', 'LicenseRef-<name>', or custom_text for any other license"
)

# Hugging Face's `license:` metadata takes its own lowercase keys; SPDX ids that have one map to it.
_HF_LICENSES = frozenset(
    """apache-2.0 mit openrail afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear
    c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl
    osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr""".split()  # noqa: SIM905
)


@cache
def spdx_identifiers() -> dict[str, str]:
    """Lower-cased identifier -> canonical identifier, from the shipped list."""
    lines = SPDX_LIST_PATH.read_text(encoding="utf-8").splitlines()
    ids = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return {identifier.lower(): identifier for identifier in ids}


def canonical_license_id(value: str) -> str:
    """The canonical spelling of an SPDX identifier; AnalysisInputError for an unknown one.

    >>> canonical_license_id("apache-2.0")
    'Apache-2.0'
    """
    text = value.strip()
    if text.lower() == PROPRIETARY:
        return PROPRIETARY
    if _LICENSE_REF.match(text):
        return text
    known = spdx_identifiers()
    if text.lower() in known:
        return known[text.lower()]
    prefixed = [k for k in known if k.startswith(text.lower())] if len(text) >= 3 else []
    close = (prefixed + difflib.get_close_matches(text.lower(), list(known), n=3, cutoff=0.75))[:3]
    close = list(dict.fromkeys(close))
    hint = f" (did you mean {describe_choices(known[c] for c in close)}?)" if close else ""
    raise AnalysisInputError(UNKNOWN_SPDX_MESSAGE.format(value=value, hint=hint))


def hugging_face_license(identifier: str) -> str | None:
    """The Hugging Face ``license:`` key for an SPDX id, or None when HF has none (use ``other``)."""
    lowered = identifier.lower()
    for candidate in (lowered, lowered.removesuffix("-only"), lowered.removesuffix("-or-later")):
        if candidate in _HF_LICENSES:
            return candidate
    return {"odbl-1.0": "odbl", "odc-by-1.0": "odc-by", "pddl-1.0": "pddl", "c-uda-1.0": "c-uda"}.get(lowered)
