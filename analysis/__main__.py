"""Print a round's rates table without a browser.

    python -m analysis report --round 2026-R2 [--level district] [--items] [--format csv|json] [--user NAME]
                              [--explore-method wilson] [--explore-confidence 0.95] [--explore-sided one]

Verdicts follow the round's own verdict rule (method, level, sidedness, set on the round and frozen
when it opens); every row names it in the column ``verdict_rule``.  The --explore-* options compute
an exploration instead: the rows then say ``mode = exploration`` and the rule used, never passing for
the official verdicts.

Once staff accounts exist, --user is required: the password is read from SURVEY_PASSWORD or asked
for, the report is cut to the user's area scope, and the export is written to the audit log.

Reads DATABASE_URL (or data/survey.sqlite3).  A CSV written with --output is UTF-8 with a
byte-order mark so that Chinese Excel opens it correctly.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from analysis import LEVELS
from analysis.rates import VerdictRule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="print the rates table of a round")
    report.add_argument("--round", required=True, dest="round_code", help="round code, e.g. 2026-R2")
    report.add_argument("--level", choices=LEVELS, default="district")
    report.add_argument("--items", action="store_true", help="item rates instead of indicator rates")
    explore = ("clopper-pearson", "wilson", "jeffreys")
    report.add_argument("--explore-method", choices=explore, help="explore another interval method (not official)")
    report.add_argument("--explore-confidence", type=float, help="explore another confidence level (not official)")
    report.add_argument("--explore-sided", choices=("one", "two"), help="explore the other sidedness (not official)")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    report.add_argument("--output", help="file to write (default: standard output)")
    report.add_argument("--user", help="staff user name (required once accounts exist)")
    args = parser.parse_args(argv)

    # Imported here so that the pure statistics never need a database to be imported.
    from data import accounts
    from data.db import make_engine, read_session, upgrade_database, write_session
    from reports.snapshot import load_snapshot
    from reports.results import results_for

    engine = make_engine()
    upgrade_database(engine)
    with read_session(engine) as session:
        needs_login = accounts.has_users(session)
    staff = None
    if needs_login:
        if not args.user:
            print("需要 --user 用户名 / --user is required once staff accounts exist", file=sys.stderr)
            return 2
        password = os.environ.get("SURVEY_PASSWORD") or getpass.getpass("密码 / password: ")
        with write_session(engine) as session:
            outcome = accounts.authenticate(session, args.user, password, source="command line")
        if outcome.staff is None or outcome.staff.role not in ("admin", "organiser", "analyst"):
            print("登录失败或无权导出 / login failed or not allowed to export", file=sys.stderr)
            return 3
        staff = outcome.staff
    try:
        snapshot = load_snapshot(engine, args.round_code, staff.area_id if staff else None)
    except LookupError as error:
        print(error, file=sys.stderr)
        return 2
    exploring = any(v is not None for v in (args.explore_method, args.explore_confidence, args.explore_sided))
    rule = snapshot.rule
    if exploring:
        try:
            rule = VerdictRule(args.explore_method or rule.method, args.explore_confidence or rule.confidence,
                               args.explore_sided or rule.sided)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
    results = results_for(snapshot, rule.method, rule.interval_confidence)
    table = results.items if args.items else results.indicators
    table = table[table["level"] == args.level].assign(
        mode="exploration" if exploring else "official", verdict_rule=rule.describe("en"))
    if args.format == "json":
        text = table.to_json(orient="records", force_ascii=False, indent=1)
    else:
        from reports.safe_cells import neutralised_frame

        text = neutralised_frame(table).to_csv(index=False)  # area names never become formulas
    if staff is not None:
        with write_session(engine) as session:
            accounts.record(session, staff.username, "export.cli", args.round_code, level=args.level,
                            items=args.items, rows=len(table), rule=rule.describe("en"),
                            mode="exploration" if exploring else "official")
    if args.output:
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
        with open(args.output, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
