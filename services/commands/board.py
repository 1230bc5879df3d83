"""`casewatch board serve`: the board report's web editor (services/board_editor/);
`casewatch board add-user`: a local account or a proxy user's role."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def serve_command(
    host: Optional[str] = typer.Option(None, "--host", help="Adress att lyssna på (CASEWATCH_BOARD_HOST)"),
    port: Optional[int] = typer.Option(None, "--port", help="Port (CASEWATCH_BOARD_PORT, standard 8471)"),
    events: Optional[Path] = typer.Option(None, "--events", help="JSONL-fil med ärendehändelser (CASEWATCH_BOARD_EVENTS_FILE)"),
    from_kafka: Optional[bool] = typer.Option(None, "--from-kafka", help="Läs händelseloggen från Kafka"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Utkast och händelselogg (CASEWATCH_BOARD_DATA_DIR)"),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Frysta rapporter, som casewatch snapshot --out-dir"),
) -> None:
    """Webbredigering av månadens nämndrapport: skriv, förhandsgranska och frys."""
    import logging

    import uvicorn

    from services.board_editor.app import create_app
    from services.board_editor.settings import load_editor_settings

    settings = load_editor_settings(host=host, port=port, events_file=events, from_kafka=from_kafka,
                                    data_dir=data_dir, snapshots_dir=out_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.secret_key() is None:
        logging.getLogger("casewatch.board").warning(
            "no CASEWATCH_BOARD_SESSION_SECRET(_FILE): sessions end when the server restarts")
    # proxy_headers=False: the peer address must be the real TCP peer, so that only the
    # configured proxies are believed (security.py reads X-Forwarded-For itself).
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, proxy_headers=False,
                server_header=False, log_level="info")


def add_user_command(
    name: str = typer.Argument(..., help="Användarnamn (som inloggningen eller proxyns huvud anger det)"),
    role: str = typer.Option("writer", "--role", help="writer (skriver och fryser) eller reader (läser)"),
    users_file: Optional[Path] = typer.Option(None, "--users-file", help="Användarfilen (CASEWATCH_BOARD_USERS_FILE)"),
    no_password: bool = typer.Option(False, "--no-password", help="Inget lösenord (inloggning via kommunens proxy)"),
) -> None:
    """Lägg till eller ändra en användare; lösenordet lagras som argon2-hash."""
    import os

    from services.board_editor.accounts import AccountsError, save_account

    path = users_file or Path(os.environ.get("CASEWATCH_BOARD_USERS_FILE", "board-users.yaml"))
    password = None if no_password else typer.prompt("Lösenord", hide_input=True, confirmation_prompt=True)
    try:
        save_account(path, name, role, password)
    except AccountsError as exc:
        typer.echo(f"fel: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{name} ({role}) sparad i {path}")


app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="The board report's web editor: write, preview and freeze a month")
app.command("serve")(serve_command)
app.command("add-user")(add_user_command)
