"""``metafold config show|test|set-secret``: the connection settings in use, tested, and secrets stored."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..errors import EXIT_FAILED, EXIT_OK, IntegrationError, UserError
from . import output
from .settings import open_session


def add_commands(commands: Any) -> None:
    """Add ``config`` and its actions to the ``metafold`` sub-commands."""
    config = commands.add_parser("config", help="show or test the elabFTW/OMERO connection settings")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("show", help="print the settings in use (never the secrets)").set_defaults(
        handler=run_config_show)
    actions.add_parser("test", help="connect to each configured system and report").set_defaults(
        handler=run_config_test)
    set_secret = actions.add_parser("set-secret", help="store an API key or password in the keyring")
    set_secret.add_argument("system", choices=("elabftw", "omero"))
    set_secret.set_defaults(handler=run_config_set_secret)


def run_config_show(args: argparse.Namespace) -> int:
    from ..config import config_path
    from ..session import SYSTEM_NAMES

    with open_session() as session:
        settings = {"config file": str(config_path()), "projects folder": str(session.projects_dir),
                    "templates folder": str(session.templates_dir or "-")}
        settings.update({SYSTEM_NAMES[system]: status for system, status in session.integration_status().items()})
    print(output.settings_lines(settings))
    return EXIT_OK


def run_config_test(args: argparse.Namespace) -> int:
    from ..session import SYSTEM_NAMES

    failed = False
    with open_session() as session:
        for system in ("elabftw", "omero"):
            try:
                print(f"{SYSTEM_NAMES[system]}: {session.test_connection(system)}")
            except IntegrationError as exc:
                failed = True
                print(f"{SYSTEM_NAMES[system]}: FAILED: {exc}")
    return EXIT_FAILED if failed else EXIT_OK


def run_config_set_secret(args: argparse.Namespace) -> int:
    """Asks for the secret in the terminal; it goes to the system keyring, nowhere else."""
    from ..config import KEYRING_SERVICE, normalize_elabftw_url

    if not sys.stdin.isatty():
        raise UserError("set-secret asks for the secret interactively; run it in a terminal")
    try:
        import keyring
    except ImportError:
        raise UserError("storing secrets needs the keyring package: pip install keyring") from None
    if args.system == "elabftw":
        address = normalize_elabftw_url(input("elabFTW address (as in the browser): "))
        account, secret = f"elabftw:{address}", getpass.getpass("API key: ")
    else:
        user, host = input("OMERO user: ").strip(), input("OMERO host: ").strip()
        account, secret = f"omero:{user}@{host}", getpass.getpass("Password: ")
    keyring.set_password(KEYRING_SERVICE, account, secret)
    print(f"stored in the system keyring as {account}")
    return EXIT_OK
