"""The ``arena`` command: argument parsing, and turning every failure into a message and an exit code.

Exit codes: 0 done; 1 failure; 2 wrong usage; 3 not signed in or token refused; 4 not found;
5 refused by the server (validation, permission, quota); 6 the submission failed (``--wait``);
7 the server could not be reached or failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import requests

from arena.cli import __version__
from arena.cli.commands.account import run_login, run_whoami
from arena.cli.commands.catalog import run_challenges
from arena.cli.commands.dashboard import run_datasets, run_me
from arena.cli.commands.download import run_download
from arena.cli.commands.leaderboard import run_leaderboard
from arena.cli.commands.submissions import run_status, run_submit
from arena.cli.errors import AUTH, FAILURE, USAGE, CliError, NetworkError
from arena.cli.output import emit_json

EPILOG = """\
Credentials live in ~/.config/affectarena/credentials.json (mode 0600); the environment variables
ARENA_SERVER and ARENA_TOKEN override them. Create a token on the site at /accounts/tokens/.
ARENA_RETRIES (default 10) bounds retries of network failures and 502/503/504 answers
(waiting as the server's Retry-After asks); ARENA_PROGRESS=1 always draws progress bars.

exit codes: 0 ok, 1 failure, 2 usage, 3 authentication, 4 not found, 5 refused by the server,
            6 submission failed (--wait), 7 network or server error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        print(f"arena: error: {message}", file=sys.stderr)
        sys.exit(USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _answer(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. external_data=no), got {text!r}")
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: `arena --json cmd` and `arena cmd --json` both work.
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document on stdout (errors too)")
    parser = _Parser(prog="arena", description="Command-line client of an AffectArena site.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", default=False,
                        help="print one JSON document on stdout (errors too)")
    parser.add_argument("--version", action="version", version=f"arena {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, run: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    login = command("login", run_login, "store the server address and an API token, after checking them")
    login.add_argument("--server", help="the site's address, e.g. https://arena.example.org")
    login.add_argument("--token", help="the API token (asked for when left out, without echo)")

    command("whoami", run_whoami, "show who the stored token belongs to, and your teams")
    command("me", run_me, "your teams with their next step and limits, and your recent submissions")
    command("challenges", run_challenges, "list challenges with their tracks and phase ids")
    datasets = command("datasets", run_datasets, "list a challenge's datasets and files (ids for `arena download`)")
    datasets.add_argument("challenge", help="the challenge's slug (see `arena challenges`)")

    submit = command("submit", run_submit, "upload a prediction file or a model archive to a phase")
    submit.add_argument("--phase", type=_positive_int, required=True, help="phase id (see `arena challenges`)")
    submit.add_argument("file", nargs="?", help="the prediction file (CSV; .gz or .zip where the track allows)")
    submit.add_argument("--image-archive", metavar="PATH",
                        help="instead of a prediction file: a `docker save` archive (.tar or .tar.gz) of a model; "
                        "large ones go straight to the site's storage when it allows")
    submit.add_argument("--method", help="method name shown on the leaderboard (default: the file's name)")
    submit.add_argument("--description", help="a few words on the method")
    submit.add_argument("--paper-url", help="link to the paper")
    submit.add_argument("--code-url", help="link to the code")
    submit.add_argument("--answer", type=_answer, action="append", default=[], metavar="KEY=VALUE",
                        help="answer a fact-sheet question of the phase; repeat for each "
                        "(the questions: GET /api/v1/phases/ID, fact_sheet)")
    submit.add_argument("--wait", action="store_true", help="follow the status until scored, failed or cancelled")
    submit.add_argument("--timeout", type=float, default=3600, help="longest wait with --wait, in seconds")
    submit.add_argument("--idempotency-key", help="reuse a key to make retrying a whole command safe")

    status = command("status", run_status, "show a submission's status, scores and error")
    status.add_argument("id", type=_positive_int, help="submission id")

    board = command("leaderboard", run_leaderboard, "print a phase's leaderboard")
    board.add_argument("phase", type=_positive_int, help="phase id")
    board.add_argument("--split", choices=["public", "private", "frozen"],
                       help="default: public (private on phases scored on a hidden split only); private is "
                       "readable after the results are revealed; frozen: organisers only")
    board.add_argument("--csv", action="store_true", help="print the site's CSV export")

    download = command("download", run_download, "download a dataset file, resumable, sha256-checked")
    download.add_argument("file_id", type=_positive_int, help="dataset file id (see `arena datasets CHALLENGE`)")
    download.add_argument("--out", help="folder to save into (default: the current folder)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return args.run(args)
    except CliError as exc:
        if args.json:
            emit_json(exc.as_json())
        message = " ".join(exc.message.split())
        if exc.exit_code == AUTH and "arena login" not in message:
            message += " (run `arena login` with a valid token)"
        print(f"arena: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("arena: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`arena ... | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except requests.RequestException as exc:
        error = NetworkError(f"Talking to the server failed: {' '.join(str(exc).split())[:300]}")
        if args.json:
            emit_json(error.as_json())
        print(f"arena: {error.message}", file=sys.stderr)
        return error.exit_code
    except (OSError, ValueError) as exc:
        # Local problems (disk full, unreadable file, an answer that is not JSON): one line, no traceback.
        if args.json:
            emit_json(CliError(str(exc), code=type(exc).__name__).as_json())
        print(f"arena: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return FAILURE


if __name__ == "__main__":
    sys.exit(main())
