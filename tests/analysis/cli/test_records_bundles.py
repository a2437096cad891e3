"""Signed bundles: export, verify on a machine with no Loupe home, and every way one fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli.main import main
from analysis.records import RecordStore
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def record_id(loupe_home) -> str:
    return (
        RecordStore()
        .save(
            kind="fairness",
            model_id=None,
            revision=None,
            inputs={"predictions": "cd" * 32},
            parameters={"seed": 1},
            versions={"python": "3.11", "numpy": "2.3.5"},
            result={"accuracy": 0.8125},
        )
        .record_id
    )


@pytest.fixture
def keys(tmp_path) -> Path:
    key = tmp_path / "keys" / "signer.pem"
    assert main(["records", "keygen", "--out", str(key)]) == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    return key


@pytest.fixture
def bundle(record_id, keys, tmp_path, capsys) -> Path:
    out = tmp_path / "record.bundle.json"
    assert main(["records", "export", record_id, "--sign", str(keys), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def verify(bundle: Path, key: Path, capsys) -> tuple[int, str, str]:
    code = main(["records", "verify-bundle", str(bundle), "--key", str(key)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bundle_holds_record_environment_inputs_and_verifies_without_a_home(bundle, keys, record_id, tmp_path):
    data = json.loads(bundle.read_text())
    payload = data["payload"]
    assert payload["record"]["record_id"] == record_id and payload["inputs"] == {"predictions": "cd" * 32}
    assert payload["environment"]["requirements"]["content"] == (PROJECT_ROOT / "requirements.txt").read_text()
    assert {"platform", "python", "libraries"} <= set(payload["environment"])
    empty = tmp_path / "no-home"  # another machine: no records, no registry
    env = {**os.environ, "LOUPE_HOME": str(empty)}
    command = [sys.executable, "-m", "analysis", "records", "verify-bundle", str(bundle), "--key", f"{keys}.pub"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"verified: {record_id}")
    assert not empty.exists()


def test_one_changed_byte_fails(bundle, keys, capsys):
    text = bundle.read_text()
    assert '"accuracy": 0.8125' in text
    bundle.write_text(text.replace('"accuracy": 0.8125', '"accuracy": 0.8126'))
    code, out, _ = verify(bundle, Path(f"{keys}.pub"), capsys)
    assert code == 3
    assert "FAILED: the signature does not verify" in out
    assert "does not hash to its id" in out


def test_every_single_byte_change_fails(bundle, keys, capsys):
    original = bundle.read_bytes()
    for position in range(0, len(original), max(1, len(original) // 40)):
        changed = bytearray(original)
        changed[position] ^= 0x01
        bundle.write_bytes(bytes(changed))
        code, _, _ = verify(bundle, Path(f"{keys}.pub"), capsys)
        assert code in (2, 3), position  # malformed (2) or fails its checks (3), never verified


def test_a_bundle_signed_with_another_key_fails(bundle, tmp_path, capsys):
    other = tmp_path / "other.pem"
    assert main(["records", "keygen", "--out", str(other)]) == 0
    code, out, _ = verify(bundle, Path(f"{other}.pub"), capsys)
    assert code == 3
    assert "FAILED: the signature does not verify with this public key (changed, or signed with another key)" in out
    assert "FAILED: the bundle names another signing key than the one given" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"format": "something-else"}', "is not a Loupe bundle"),
        (b"\xff\xfe", "is not valid JSON"),
    ],
)
def test_malformed_bundles_are_one_line_errors(keys, tmp_path, content, message, capsys):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = verify(path, Path(f"{keys}.pub"), capsys)
    assert code == 2 and message in err and str(path) in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("which", ["public", "private"])
def test_a_key_file_that_is_not_a_key(bundle, record_id, tmp_path, which, capsys):
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("hello\n")
    if which == "public":
        code, _, err = verify(bundle, not_a_key, capsys)
        expected = f"{str(not_a_key)!r} is not a PEM public key"
    else:
        code = main(["records", "export", record_id, "--sign", str(not_a_key), "--out", str(tmp_path / "b.json")])
        err = capsys.readouterr().err
        expected = f"{str(not_a_key)!r} is not an unencrypted PEM private key"
    assert code == 2 and expected in err and err.count("\n") == 1


def test_the_public_key_is_not_a_signing_key(record_id, keys, tmp_path, capsys):
    code = main(["records", "export", record_id, "--sign", f"{keys}.pub", "--out", str(tmp_path / "b.json")])
    assert code == 2 and "is not an unencrypted PEM private key" in capsys.readouterr().err


def test_unknown_record_and_existing_key_are_refused(keys, loupe_home, tmp_path, capsys):
    assert main(["records", "export", "privacy-0000", "--sign", str(keys), "--out", str(tmp_path / "b")]) == 2
    assert "no stored record 'privacy-0000'" in capsys.readouterr().err
    assert main(["records", "keygen", "--out", str(keys)]) == 2
    assert "keygen never overwrites a key" in capsys.readouterr().err
