"""Every one-value option accepts a value that starts with a minus sign in the plain form (issue 19):
``--input-range -1,1`` parses exactly like ``--input-range=-1,1``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from analysis.cli.main import _single_value_options, build_parser, join_minus_values


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def _cases() -> list[tuple[tuple[str, ...], str, str]]:
    cases = []
    for path, leaf in _leaves(build_parser()):
        for action in leaf._actions:
            if action.option_strings and action.nargs is None and not action.choices and action.dest != "json":
                value = "-1" if action.type in (int, float) else "-1,1"
                cases.append((path, action.option_strings[-1], value))
    return cases


CASES = _cases()


def _filled(leaf: argparse.ArgumentParser, option: str, value: str, *, plain: bool) -> list[str]:
    """``option value`` plus dummy values for the leaf's other required options and positionals."""
    words = [option, value] if plain else [f"{option}={value}"]
    for action in leaf._actions:
        if action.required and action.option_strings and option not in action.option_strings:
            words += [action.option_strings[-1], str(next(iter(action.choices))) if action.choices else "x"]
        elif not action.option_strings and action.nargs not in ("...", argparse.REMAINDER):
            words.append("x")
    for group in leaf._mutually_exclusive_groups:
        names = [a.option_strings[-1] for a in group._group_actions]
        if group.required and option not in names:
            words += [names[0], "x"]
    return words


def test_the_table_covers_the_range_options() -> None:
    options = {option for _, option, _ in CASES}
    assert {"--input-range", "--fail-above-auc", "--thresholds", "--examples", "--units"} <= options
    assert len(CASES) > 40


@pytest.mark.parametrize(("path", "option", "value"), CASES, ids=[" ".join((*p, o)) for p, o, _ in CASES])
def test_plain_minus_value_parses_like_the_equals_form(path: tuple[str, ...], option: str, value: str) -> None:
    parser = build_parser()
    options = _single_value_options(parser)
    leaf = dict(_leaves(parser))[path]
    plain = parser.parse_args(
        [*path, *join_minus_values([*path, *_filled(leaf, option, value, plain=True)], options)[len(path) :]]
    )
    equals = parser.parse_args([*path, *_filled(leaf, option, value, plain=False)])
    assert vars(plain) == vars(equals)


def test_join_leaves_options_names_and_the_rest_alone() -> None:
    options = {"--input-range", "--id"}
    assert join_minus_values(["add", "m.h5", "--input-range", "-1,1", "--id", "x"], options) == [
        "add",
        "m.h5",
        "--input-range=-1,1",
        "--id",
        "x",
    ]
    # an option name after a value-taking option is not a value; after "--" nothing is touched
    assert join_minus_values(["--id", "--input-range", "-.5,1"], options) == ["--id", "--input-range=-.5,1"]
    assert join_minus_values(["--", "--input-range", "-1,1"], options) == ["--", "--input-range", "-1,1"]
