"""``python -m services.board_editor serve|add-user`` runs the same commands as ``casewatch board``."""
from .cli import app

app(prog_name="casewatch board")
