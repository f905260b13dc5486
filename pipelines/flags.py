"""Reject a command-line flag that no option knows, before any work is done (issue 24, item 5).

Beam parses flags with parse_known_args: what no option knows it logs as "Discarding unparseable args"
and drops, so `--stroy_threshold 0.2` ran the whole job with the default threshold and exited 0. Here
the flags are parsed once, up front, by a parser built the way Beam's `get_all_options` builds its own
(every registered PipelineOptions subclass, no abbreviations), so whatever Beam accepts is accepted,
runner flags included, and anything else is named, with the nearest known option when there is one.

The driver calls it first thing in run():

    if (msg := unknown_flag_message(argv)) is not None:
        print(msg, file=sys.stderr)
        return EXIT_CONFIG
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from typing import Optional, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

import pipelines.options  # noqa: F401  (defines NewsOptions, which registers newsbeam's flags)

# Runners whose option classes live outside apache_beam.options.pipeline_options. Beam imports a runner's
# module when it builds the runner, after this check, so they are imported here; a runner whose extra is
# not installed (Dask) has no flags to accept.
RUNNER_OPTION_MODULES = ("apache_beam.runners.render", "apache_beam.runners.dask.dask_runner")


class _ParseError(Exception):
    pass


class _Parser(_BeamArgumentParser):
    """Beam's parser (it has add_value_provider_argument), raising instead of exiting on an error: a bad
    value of a known flag (`--story_threshold abc`) is not this check's to report; Beam reports it next."""

    def error(self, message):
        raise _ParseError(message)


def option_parser() -> argparse.ArgumentParser:
    """Every flag Beam and newsbeam know, as Beam gathers them: one class per name, in definition order."""
    for name in RUNNER_OPTION_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    parser = _Parser(allow_abbrev=False)
    classes = {}
    for cls in PipelineOptions.__subclasses__():
        classes.setdefault(str(cls), cls)  # as Beam does: a class defined twice (as __main__, say) counts once
    for cls in classes.values():
        cls._add_argparse_args(parser)  # pylint: disable=protected-access
    return parser


def unknown_flag_message(argv: Optional[Sequence[str]] = None) -> Optional[str]:
    """None when every argument (default: sys.argv[1:]) belongs to a known option, else the line to print
    for the first one that does not: `newsbeam: unknown option --x (did you mean --y?)`.

    `-h`/`--help` prints the help of every option, Beam's and newsbeam's, and exits 0, as argparse does:
    PipelineOptions' own parser knows only the options of the class it builds, so its help lists none."""
    parser = option_parser()
    try:
        _, unknown = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    except _ParseError:
        return None
    if not unknown:
        return None
    first = unknown[0]
    if not first.startswith("-"):
        return f"newsbeam: unexpected argument {first!r} (options are given as --name value or --name=value)"
    name = first.split("=", 1)[0]
    actions = parser._actions  # pylint: disable=protected-access
    known = [option for action in actions for option in action.option_strings]
    close = difflib.get_close_matches(name, known, n=1)
    return f"newsbeam: unknown option {name}" + (f" (did you mean {close[0]}?)" if close else "")
