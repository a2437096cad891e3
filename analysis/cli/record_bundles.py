"""Signed record bundles: ``records keygen``, ``records export --sign`` and ``records verify-bundle``.

A bundle is one JSON file a third party can check with nothing else of Loupe's state:

    {"format": "loupe-record-bundle/1",
     "payload": {"record": {...}, "inputs": {name: sha256}, "environment": {...}},
     "signature": {"algorithm": "ed25519", "public_key": hex, "value": base64}}

The signature is Ed25519 over the payload's canonical JSON (sorted keys, no whitespace). The
environment holds the pinned ``requirements.txt`` (its sha256 and content), the platform, Python
and the versions of the libraries the analysis used. ``verify-bundle`` checks the signature
against the given public key, that the record's id is its content digest, that the inputs are the
record's, and that the requirements content matches its hash. A bundle's *fingerprint* is the
sha256 of the file's bytes; a model card can cite it beside the record id.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from analysis.cli.main import EXIT_GATE_FAILED
from analysis.cli.output import emit, write_text_atomically
from analysis.errors import AnalysisInputError
from analysis.records import BundleFingerprint, RecordStore, canonical_json, record_digest, record_id_for

FORMAT = "loupe-record-bundle/1"
REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
ENVIRONMENT_PACKAGES = ("numpy", "tensorflow-cpu", "keras", "scikit-learn", "fairlearn", "tensorflow-privacy")


def run_keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = Path(args.out)
    if out.exists():
        raise AnalysisInputError(f"{args.out!r} exists; keygen never overwrites a key (choose another --out)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private: owner only
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private)
        Path(f"{out}.pub").write_bytes(public)
    except OSError as error:
        raise AnalysisInputError(f"cannot write {args.out!r}: {error.strerror or error}") from error
    print(f"private key {out} (keep it secret); public key {out}.pub (give it to whoever checks your bundles)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    key = load_private_key(Path(args.sign))
    record = RecordStore().get(args.record_id.strip())
    payload = {
        "record": record.to_dict(),
        "inputs": dict(record.inputs),
        "environment": environment(record.versions),
    }
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    bundle = {
        "format": FORMAT,
        "payload": payload,
        "signature": {
            "algorithm": "ed25519",
            "public_key": public.hex(),
            "value": base64.b64encode(key.sign(canonical_json(payload).encode("utf-8"))).decode(),
        },
    }
    text = bundle_text(bundle)
    write_text_atomically(args.out, text)
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
    RecordStore().note_bundle(  # a card citing the record embeds this fingerprint
        record_id=record.record_id, sha256=fingerprint, file_name=Path(args.out).name, public_key=public.hex()
    )
    emit(
        {"record_id": record.record_id, "bundle": Path(args.out).name, "bundle_sha256": fingerprint},
        args.json,
        f"bundle {args.out} for {record.record_id}; sha256 {fingerprint} (cite it beside the record id)",
    )
    return 0


def run_verify_bundle(args: argparse.Namespace) -> int:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    public_key = load_public_key(Path(args.key))
    bundle, fingerprint = read_bundle(Path(args.bundle))
    payload, signature = bundle["payload"], bundle["signature"]
    problems = []
    if Path(args.bundle).read_bytes() != bundle_text(bundle).encode("utf-8"):
        problems.append("the file is not byte for byte as exported (its JSON was re-written or changed)")
    if set(bundle) != {"format", "payload", "signature"} or set(signature) != {"algorithm", "public_key", "value"}:
        problems.append("the bundle has fields an exported bundle does not have, or lacks some")
    if signature.get("algorithm") != "ed25519":
        problems.append(f"the signature algorithm is {signature.get('algorithm')!r}, not 'ed25519'")
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    if signature.get("public_key") != raw:
        problems.append("the bundle names another signing key than the one given")
    try:
        public_key.verify(base64.b64decode(signature["value"], validate=True), canonical_json(payload).encode("utf-8"))
    except (InvalidSignature, ValueError):
        problems.append("the signature does not verify with this public key (changed, or signed with another key)")
    record = payload.get("record")
    if not isinstance(record, dict) or "previous" not in record:
        problems.append("the record is not a chained, content-addressed record")
    else:
        if record.get("record_id") != record_id_for(str(record.get("kind")), record_digest(record)):
            problems.append(f"record {record.get('record_id')!r}: its content does not hash to its id")
        if payload.get("inputs") != record.get("inputs"):
            problems.append("the bundle's input hashes are not the record's")
    environment_ = payload.get("environment")
    requirements = environment_.get("requirements") if isinstance(environment_, dict) else None
    content = requirements.get("content") if isinstance(requirements, dict) else None
    if isinstance(content, str) and hashlib.sha256(content.encode("utf-8")).hexdigest() != requirements.get("sha256"):
        problems.append("the pinned requirements do not match their sha256")
    record_id = record.get("record_id") if isinstance(record, dict) else None
    human = (
        f"verified: {record_id}, signed by this key; bundle sha256 {fingerprint}"
        if not problems
        else "\n".join(f"FAILED: {p}" for p in problems)
    )
    emit(
        {"bundle_sha256": fingerprint, "record_id": record_id, "verified": not problems, "problems": problems},
        args.json,
        human,
    )
    return EXIT_GATE_FAILED if problems else 0


def note_bundle_for_card(path: Path, store: RecordStore | None = None) -> BundleFingerprint:
    """Check a bundle against this home's records and remember its fingerprint for model cards.

    The bundle must be as exported (byte for byte), signed by the key it names, and hold a
    record stored here with the same content; AnalysisInputError naming what is wrong otherwise.
    (A third party checks it against the signer's key with ``verify-bundle``.)
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    store = store or RecordStore()
    bundle, fingerprint = read_bundle(path)
    payload, signature = bundle["payload"], bundle["signature"]
    record = payload.get("record") if isinstance(payload.get("record"), dict) else {}
    record_id = str(record.get("record_id"))
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(signature.get("public_key"))))
        key.verify(base64.b64decode(signature["value"], validate=True), canonical_json(payload).encode("utf-8"))
    except (InvalidSignature, ValueError) as error:
        raise AnalysisInputError(
            f"bundle {path.name!r}: its signature does not verify with the key it names; it was changed after export"
        ) from error
    if path.read_bytes() != bundle_text(bundle).encode("utf-8"):
        raise AnalysisInputError(f"bundle {path.name!r} is not byte for byte as exported (its JSON was re-written)")
    stored = store.get(record_id)
    if stored.to_dict() != record:
        raise AnalysisInputError(
            f"bundle {path.name!r} holds record {record_id!r} with other content than the record stored here"
        )
    return store.note_bundle(
        record_id=record_id, sha256=fingerprint, file_name=path.name, public_key=str(signature["public_key"])
    )


def bundle_text(bundle: dict[str, Any]) -> str:
    """The one text a bundle is written as (so a verifier can tell a re-written file)."""
    return json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n"


def environment(record_versions: dict[str, str]) -> dict[str, Any]:
    """Where the record is being exported from: pinned requirements, platform, Python, library versions."""
    requirements = None
    if REQUIREMENTS.is_file():
        content = REQUIREMENTS.read_text(encoding="utf-8")
        requirements = {
            "file": REQUIREMENTS.name,
            "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(),
            "content": content,
        }
    libraries = {}
    for package in sorted({*ENVIRONMENT_PACKAGES, *(n for n in record_versions if n != "python")}):
        try:
            libraries[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            libraries[package] = "not installed"
    return {
        "requirements": requirements,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "libraries": libraries,
    }


def read_bundle(path: Path) -> tuple[dict[str, Any], str]:
    """The bundle's JSON and the sha256 of its bytes; AnalysisInputError naming a malformed one."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnalysisInputError(f"cannot read bundle {str(path)!r}: {error.strerror or error}") from error
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise AnalysisInputError(
            f"bundle {str(path)!r} is not valid JSON ({error}); it is not a Loupe bundle"
        ) from error
    if (
        not isinstance(bundle, dict)
        or bundle.get("format") != FORMAT
        or not isinstance(bundle.get("payload"), dict)
        or not isinstance(bundle.get("signature"), dict)
        or not isinstance(bundle["signature"].get("value"), str)
    ):
        raise AnalysisInputError(
            f"bundle {str(path)!r} is not a Loupe bundle: it needs format {FORMAT!r}, a payload and a signature"
        )
    return bundle, hashlib.sha256(data).hexdigest()


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM file (``records keygen``); AnalysisInputError otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(_read_key(path), password=None)
    except (ValueError, TypeError) as error:
        raise AnalysisInputError(
            f"{str(path)!r} is not an unencrypted PEM private key; make one with 'records keygen --out KEYFILE'"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise AnalysisInputError(f"{str(path)!r} is a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_public_key(path: Path):
    """An Ed25519 public key from a PEM file (``KEYFILE.pub``); AnalysisInputError otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(_read_key(path))
    except (ValueError, TypeError) as error:
        raise AnalysisInputError(
            f"{str(path)!r} is not a PEM public key; give the KEYFILE.pub that 'records keygen' wrote"
        ) from error
    if not isinstance(key, Ed25519PublicKey):
        raise AnalysisInputError(f"{str(path)!r} is a {type(key).__name__}, not an Ed25519 public key")
    return key


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AnalysisInputError(f"cannot read key file {str(path)!r}: {error.strerror or error}") from error
