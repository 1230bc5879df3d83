"""`casewatch web-config hash`: a bcrypt hash for ``basic_auth_users`` of a web config file."""
from __future__ import annotations

import sys

import typer

app = typer.Typer(help="Web config files (TLS, basic auth) of the metrics endpoints", add_completion=False,
                  no_args_is_help=True)


@app.command("hash")
def hash_command(rounds: int = typer.Option(12, "--rounds", min=10, max=16, help="bcrypt cost")) -> None:
    """Print the bcrypt hash of a password read from stdin (kept out of the shell history):
    `casewatch web-config hash < password.txt`."""
    from services.web_config import hash_password

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        typer.echo("error: no password on stdin", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(password, rounds))
