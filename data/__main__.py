"""Operator commands without a browser.

    python -m data upgrade        create or upgrade the database schema
    python -m data demo           load the demo city, questionnaire and two mock rounds (empty database only)
    python -m data rounds         list the rounds with their response counts

The database is DATABASE_URL, or data/survey.sqlite3 when it is not set.
"""

from __future__ import annotations

import argparse
import sys

from data.db import database_url, make_engine, read_session, upgrade_database
from data.demo import load_demo
from data.reads import count_responses
from data.rounds import list_rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="create or upgrade the database schema")
    commands.add_parser("demo", help="load the demo data into an empty database")
    commands.add_parser("rounds", help="list rounds and their response counts")
    args = parser.parse_args(argv)

    engine = make_engine()
    upgrade_database(engine)
    if args.command == "upgrade":
        print(f"database ready: {_safe_url()}")
    elif args.command == "demo":
        loaded = load_demo(engine)
        print("demo data loaded" if loaded else "database already holds data; demo not loaded")
    elif args.command == "rounds":
        with read_session(engine) as session:
            for survey_round in list_rounds(session):
                count = count_responses(session, survey_round.id)
                print(f"{survey_round.code}\t{survey_round.status}\t{count}\t{survey_round.name_zh}")
    return 0


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url()).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
