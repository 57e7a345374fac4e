"""`exconnect` command line: a dispatcher of subcommands.

Each subcommand is a module exposing `HELP`, `add_arguments(parser)` and `run(args) -> int`,
imported only when chosen. Adding one is a single line in COMMANDS, e.g.
    "demo": "exconnect.demo",
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Dict, List, Optional

COMMANDS: Dict[str, str] = {
    "replay": "exconnect.replay.command",
    "demo": "exconnect.demo",
}

# One-line help shown in `exconnect --help`, without importing every subcommand.
_SUMMARIES: Dict[str, str] = {
    "replay": "replay a Binance depth workload into the order book and show it live",
    "demo": "market-making demo on the embedded Binance-compatible simulator (spot or perp)",
}


def build_parser(selected: Optional[str] = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exconnect", description="exconnect command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if name == selected:
            module = importlib.import_module(module_name)
            sub = subparsers.add_parser(name, help=getattr(module, "HELP", None),
                                        description=module.__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
            module.add_arguments(sub)
            sub.set_defaults(_run=module.run)
        else:
            subparsers.add_parser(name, help=_SUMMARIES.get(name))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
