"""``models add --training-recipe`` and the recipe a reference audit then uses: a bad file registers
nothing; ``models list`` shows the recipe; a tiny LiRA audit records which recipe its references
trained with and why (the registered one, a flag over it, a --recipe file over it)."""

from __future__ import annotations

import json

import numpy as np

from analysis.cli.main import main
from analysis.models.registry import ModelRegistry

REGISTERED = {"epochs": 1, "batch_size": 32, "optimizer": "sgd", "learning_rate": 0.05, "augmentation": "off"}


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def image_set(path, n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    np.savez(path, x=rng.uniform(0, 255, (n, 8, 8, 3)).astype(np.float32), y=np.arange(n) % 3)
    return str(path)


def test_a_bad_recipe_file_registers_nothing(loupe_home, capsys, tiny_cnn_path, tmp_path):
    bad = tmp_path / "recipe.yaml"
    bad.write_text("epochs: 3\nlr: 0.1\n")
    code, out, err = run(capsys, "models", "add", str(tiny_cnn_path), "--id", "tiny", "--training-recipe", str(bad))
    assert code == 2 and out == ""
    assert err == (
        f"error: unknown field 'lr' in recipe file {str(bad)!r}; fields are 'epochs', 'batch_size', "
        "'optimizer', 'learning_rate' or 'augmentation'\n"
    )
    bad.write_text("epochs: 0\n")
    code, _, err = run(capsys, "models", "add", str(tiny_cnn_path), "--id", "tiny", "--training-recipe", str(bad))
    assert code == 2
    assert err.startswith(f"error: recipe file {str(bad)!r}: recipe epochs 0 must be an integer from 1 to 10000")
    assert "fields are" in err
    code, _, err = run(capsys, "models", "add", str(tiny_cnn_path), "--id", "tiny", "--training-recipe", "no.json")
    assert code == 2 and "cannot read recipe file 'no.json'" in err
    assert ModelRegistry(loupe_home).ids() == []


def test_registered_recipe_is_listed_and_used_by_reference_audits(loupe_home, capsys, tiny_cnn_path, tmp_path):
    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps(REGISTERED))
    members = image_set(tmp_path / "members.npz", 60, seed=0)
    nonmembers = image_set(tmp_path / "nonmembers.npz", 50, seed=1)
    add = ("models", "add", str(tiny_cnn_path), "--id", "tiny", "--members", members, "--nonmembers", nonmembers)
    code, _, err = run(capsys, *add, "--training-recipe", str(recipe_file))
    assert code == 0, err
    code, out, _ = run(capsys, "models", "list", "--json", "-")
    assert json.loads(out)["models"][0]["training_recipe"] == REGISTERED
    code, out, _ = run(capsys, "models", "list")
    assert "training recipe: epochs 1, batch_size 32, optimizer sgd, learning_rate 0.05, augmentation off" in out

    audit = ("privacy", "--model", "tiny", "--attacks", "lira", "--reference-models", "2", "--slices", "none")
    audit += ("--workers", "1", "--json", "-")

    def reference(*flags: str) -> dict:
        code, out, err = run(capsys, *audit, *flags)
        assert code == 0, err
        return json.loads(out)["reference"]

    used = reference()  # nothing given: the revision's registered recipe
    assert used["recipe"] == REGISTERED
    assert (used["recipe_source"], used["recipe_base"], used["recipe_flags"]) == ("registration", "registration", [])
    html = tmp_path / "report.html"
    used = reference("--batch-size", "16", "--html", str(html))  # one flag replaces one field of the registered one
    assert used["recipe"] == {**REGISTERED, "batch_size": 16}
    assert (used["recipe_source"], used["recipe_base"], used["recipe_flags"]) == (
        "flags",
        "registration",
        ["batch_size"],
    )
    assert "(the recipe registered with the model; batch_size set by hand)" in html.read_text()
    given = tmp_path / "given.yaml"
    given.write_text("epochs: 1\nbatch_size: 64\n")
    used = reference("--recipe", str(given))  # a whole file replaces the registered recipe, defaults for the rest
    assert used["recipe"] == {**REGISTERED, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.001}
    assert (used["recipe_source"], used["recipe_base"]) == ("file", "file")
