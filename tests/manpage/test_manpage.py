# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace(8) against the command it documents: the options `waketrace
--help` prints and the options the page documents are the same, with the same
values; the page's examples parse; the page passes mandoc's and groff's checks
without a warning; and `meson install` puts it in man8. Nothing here traces,
so nothing needs root."""
import os
import pathlib
import re
import shlex
import shutil
import subprocess

import pytest

from ci_rule import skip_or_fail

PAGE = pathlib.Path(os.environ["WAKETRACE_MANPAGE"])
WAKETRACE = os.environ["WAKETRACE"]

# "-p" or "--max-chains", not "--" alone and not the "-" inside a word.
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# Macros whose arguments print joined, alternating fonts (.BR -p ", " --pid).
JOINED_MACROS = {".BR", ".RB", ".BI", ".IB", ".IR", ".RI"}
ROFF_ARGUMENT = re.compile(r'"((?:[^"]|"")*)"|(\S+)')
ESCAPES = [
    (re.compile(r"\\f[BIRP]"), ""),
    (re.compile(r"\\[%&c]"), ""),
    (re.compile(r"\\-"), "-"),
    (re.compile(r"\\~"), " "),
    (re.compile(r"\\\((?:lq|rq)"), '"'),
    (re.compile(r"\\\(bu"), "*"),
]


# --- the command's own description of itself

def help_lines():
    result = subprocess.run([WAKETRACE, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def help_block(lines, heading):
    """The lines after the one starting with `heading`, up to a blank line
    (the heading's own line too when it carries text, as "usage:" does)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    block = [lines[start][len(heading):]] if lines[start][len(heading):].strip() else []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        block.append(line)
    return block


def option_entry(text):
    """(the option spellings, the value's name or None) of one option's
    entry: "-p, --pid PID[,PID..]" -> ({"-p", "--pid"}, "PID")."""
    options = OPTION.findall(text)
    after = text[text.rindex(options[-1]) + len(options[-1]):]
    value = re.match(r" +([A-Z][A-Z_]*)", after)
    return frozenset(options), value.group(1) if value else None


def help_options():
    """--help's option entries; an entry's line is indented less than its
    description's continuation lines."""
    entries = []
    for line in help_block(help_lines(), "options:"):
        stripped = line.lstrip()
        if stripped.startswith("-") and len(line) - len(stripped) < 10:
            # The description starts after two spaces (or one, after a long value name).
            entries.append(option_entry(re.split(r" {2,}", stripped)[0]))
    return entries


def help_positionals():
    names = set()
    for line in help_block(help_lines(), "positional arguments:"):
        if len(line) - len(line.lstrip()) < 10:
            names.add(re.search(r"[A-Za-z]+", line).group(0).lower())
    return names


# --- the page, read as the words it prints

def printed(line):
    """A line of man(7) source as the text it prints, without fonts."""
    if line.startswith("."):
        macro, _, rest = line.partition(" ")
        arguments = [quoted.replace('""', '"') if quoted or not bare else bare
                     for quoted, bare in ROFF_ARGUMENT.findall(rest)]
        line = ("" if macro in JOINED_MACROS else " ").join(arguments)
    for pattern, replacement in ESCAPES:
        line = pattern.sub(replacement, line)
    return line


def page_sections():
    sections = {}
    current = None
    for line in PAGE.read_text().splitlines():
        if line.startswith('.\\"'):
            continue
        if line.startswith(".SH "):
            current = line[4:].strip().strip('"')
            sections[current] = []
        elif current:
            sections[current].append(line)
    return sections


def tags(section):
    """The printed tag (the line after .TP) of every entry of a section."""
    return [printed(section[i + 1]) for i, line in enumerate(section[:-1]) if line == ".TP"]


def page_options():
    return [option_entry(tag) for tag in tags(page_sections()["OPTIONS"]) if OPTION.search(tag)]


def page_positionals():
    return {re.search(r"[A-Za-z]+", tag).group(0).lower()
            for tag in tags(page_sections()["OPTIONS"]) if not OPTION.search(tag)}


def describe(entry):
    options, value = entry
    return " ".join(sorted(options)) + (f" {value}" if value else "")


# --- the two agree

def test_every_option_help_prints_is_documented_alike():
    documented = page_options()
    help_entries = help_options()
    assert len(help_entries) >= 20, help_entries  # the parse found the table
    missing = [describe(entry) for entry in help_entries if entry not in documented]
    assert not missing, f"in --help, not (or not alike) in the page's OPTIONS: {missing}"


def test_every_documented_option_is_one_help_prints():
    help_entries = help_options()
    unknown = [describe(entry) for entry in page_options() if entry not in help_entries]
    assert not unknown, f"in the page's OPTIONS, not (or not alike) in --help: {unknown}"


def test_each_option_is_documented_once():
    spellings = [option for options, _ in page_options() for option in options]
    assert len(spellings) == len(set(spellings)), sorted(spellings)


def test_positional_arguments_are_documented():
    assert help_positionals() == {"duration", "command"}
    assert page_positionals() == help_positionals()


def test_synopsis_names_the_options_of_the_usage_line():
    usage = set(OPTION.findall(" ".join(help_block(help_lines(), "usage:"))))
    synopsis = set(OPTION.findall(" ".join(printed(l) for l in page_sections()["SYNOPSIS"])))
    assert usage and synopsis == usage, (sorted(synopsis - usage), sorted(usage - synopsis))


def example_commands():
    commands = []
    in_example = False
    for line in page_sections()["EXAMPLES"]:
        if line in (".EX", ".EE"):
            in_example = line == ".EX"
        elif in_example and printed(line).startswith("waketrace "):
            words = shlex.split(printed(line))[1:]
            ends = [i for i, word in enumerate(words) if word in (">", "<", "|")]
            commands.append(words[:ends[0]] if ends else words)
    return commands


def test_examples_parse():
    """Each example's arguments up to "--" are valid: an unknown option put
    after them is the first thing the parser complains about."""
    commands = example_commands()
    assert len(commands) >= 5, commands
    sentinel = "--no-such-option-after-the-example"
    for words in commands:
        cut = words.index("--") if "--" in words else len(words)
        args = words[:cut] + [sentinel] + words[cut:]
        result = subprocess.run([WAKETRACE] + args, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, (words, result.stderr)
        assert f"unknown option {sentinel}" in result.stderr, (words, result.stderr)


# --- the page as man page readers see it

def tool(name, package):
    path = shutil.which(name)
    if not path:
        skip_or_fail(f"{name} is not installed (apt-get install {package})")
    return path


def test_mandoc_lint_finds_nothing():
    result = subprocess.run([tool("mandoc", "mandoc"), "-T", "lint", "-W", "style", str(PAGE)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("width", [80, 60])
def test_groff_formats_it_without_a_warning(width):
    result = subprocess.run([tool("groff", "groff-base"), "-man", "-Tutf8", "-ww", "-z",
                             f"-rLL={width - 2}n", str(PAGE)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def test_meson_installs_it_in_man8(tmp_path):
    command = [os.environ["MESON"], "install", "-C", os.environ["MESON_BUILD_DIR"],
               "--no-rebuild", "--quiet", "--tags", "man", "--destdir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    mandir = pathlib.Path(os.environ["INSTALLED_MANDIR"])
    installed = tmp_path / mandir.relative_to(mandir.anchor) / "man8" / "waketrace.8"
    assert installed.read_bytes() == PAGE.read_bytes()
