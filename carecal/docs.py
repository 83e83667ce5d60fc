"""The CLI reference, docs/cli.md, generated from every command's --help.

    python -m carecal.docs            # rewrite docs/cli.md
    python -m carecal.docs --check    # exit 1 when docs/cli.md is out of date

Help is rendered as plain text (no Rich panels, no colours) at a fixed width, so the file is
the same on every machine and a test can compare it with a fresh rendering.
"""

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from carecal.cli.main import app

WIDTH = 100
ROOT = Path(__file__).resolve().parents[1]
CLI_MD = ROOT / "docs" / "cli.md"
README = ROOT / "README.md"
GLOBAL_OPTIONS_WITH_VALUE = {"--db"}


def root_command():
    return typer.main.get_command(app)


def walk(command, path: tuple[str, ...] = ("carecal",), parent=None) -> Iterator[tuple[tuple[str, ...], str]]:
    """(command path, plain-text help) for the command and every subcommand, depth first,
    in the order --help lists them."""
    ctx = command.context_class(
        command, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    command.rich_markup_mode = None  # plain click formatting; this object is ours alone
    yield path, command.get_help(ctx)
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, (*path, name), ctx)


def render() -> str:
    parts = [
        "# carecal command reference\n",
        "Generated from each command's `--help` by `python -m carecal.docs` (`make docs`); do not edit by hand.",
        "A test fails when this file differs from what the commands say about themselves.\n",
    ]
    sections = list(walk(root_command()))
    parts.append("\n".join(f"- [`{' '.join(path)}`](#{_anchor(path)})" for path, _ in sections) + "\n")
    for path, help_text in sections:
        parts.append(f"## {' '.join(path)}\n\n```text\n{help_text.rstrip()}\n```\n")
    return "\n".join(parts)


def _anchor(path: tuple[str, ...]) -> str:
    return "-".join(path).lower()


def command_paths() -> set[tuple[str, ...]]:
    return {path for path, _ in walk(root_command())}


def readme_commands(text: str) -> list[tuple[str, ...]]:
    """`carecal ...` invocations named in the README's code blocks and code spans, in order."""
    found = []
    for snippet in re.finditer(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", text, flags=re.S):
        code = snippet[1] if snippet[1] is not None else snippet[2]
        for match in re.finditer(r"(?:^|[\s$])carecal((?:[ \t]+[^\s|;&>]+)*)", code, flags=re.M):
            found.append(tuple(match[1].split()))
    return found


def unknown_readme_commands(text: str) -> list[str]:
    """The README's `carecal ...` invocations that name no existing command."""
    known = command_paths()
    groups = {path[:-1] for path in known if len(path) > 1}
    problems = []
    for args in readme_commands(text):
        path: tuple[str, ...] = ("carecal",)
        tokens = list(args)
        while tokens:
            token = tokens.pop(0)
            if token.startswith("-"):
                if token in GLOBAL_OPTIONS_WITH_VALUE and tokens and "=" not in token:
                    tokens.pop(0)
                continue
            if path not in groups:
                break  # a leaf command: the rest are its arguments
            if (*path, token) not in known:
                problems.append(
                    f"`{' '.join(('carecal', *args))}`: carecal has no command '{' '.join((*path, token))}'"
                )
                break
            path = (*path, token)
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not CLI_MD.exists() or CLI_MD.read_text(encoding="utf-8") != text:
            print(f"{CLI_MD} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    CLI_MD.parent.mkdir(parents=True, exist_ok=True)
    CLI_MD.write_text(text, encoding="utf-8")
    print(f"wrote {CLI_MD.relative_to(ROOT)} ({text.count(chr(10) + '## ')} commands)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
