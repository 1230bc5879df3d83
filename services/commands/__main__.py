"""``python -m services.commands ...`` is ``casewatch ...`` (tests run the CLI this way)."""
from services.commands import main

main()
