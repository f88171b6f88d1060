"""`make bench` / `python -m bench.run`: every benchmark, a table per section, and bench/RESULTS.md.

Benchmarks, not tests: they print figures and never fail on timing. Everything talks to 127.0.0.1 only.
`--quick` runs each section for a few seconds (to check the harness); the default is the real run.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import report
from bench.consent import ConsentOptions, bench_consent
from bench.fanout import FanoutOptions, bench_fanout
from bench.profile import profile_custodian, top
from bench.scripts import SCRIPTS
from bench.turns import ORDER, TurnOptions, bench_turns, walk

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
KEEP = "<!-- Notes below this line are kept when the bench rewrites this file (e.g. before/after a fix). -->"
SECTIONS = ("turns", "fanout", "consent", "profile")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; --quick changes the defaults of the others."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few seconds per section (harness check)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--seconds", type=float, help="measured seconds per target and concurrency (default 5; quick 1.5)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each measurement (default 1.5; quick 0.5)")
    parser.add_argument("--concurrency", default="1,8,32,128", help="conversations at once, comma list")
    parser.add_argument("--targets", default=",".join(ORDER), help=f"comma list of {', '.join(ORDER)}")
    parser.add_argument("--script", choices=sorted(SCRIPTS), help="force a conversation script")
    parser.add_argument("--reminders", type=int, help="fan-out reminders (default 10000; quick 1000)")
    parser.add_argument("--pupils", type=int, default=50_000, help="consent register size")
    parser.add_argument("--lookups", type=int, help="timed lookups in a built index (default 300; quick 50)")
    parser.add_argument("--walk", choices=sorted(SCRIPTS), help="only walk one conversation through a script and print it")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (databases, server logs)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (1.5 if quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if quick else 1.5)
    args.reminders = args.reminders or (1_000 if quick else 10_000)
    args.lookups = args.lookups or (50 if quick else 300)
    args.sections = [s for s in args.only.split(",") if s]
    for flag, chosen, known in (("--only", args.sections, SECTIONS), ("--targets", args.targets.split(","), ORDER)):
        unknown = sorted(set(chosen) - set(known) - {""})
        if unknown:
            parser.error(f"{flag}: unknown {', '.join(unknown)} (choose from {', '.join(known)})")
    return args


async def run(args: argparse.Namespace, workdir: Path) -> tuple[list[str], list[str]]:
    """Each chosen section in turn; returns (target verdict lines, markdown sections in section order)."""
    sections: dict[str, str] = {}
    verdicts: list[str] = []
    script_name = args.script

    def section(title: str, body: str, checks: Sequence[str] = ()) -> None:
        text = body + ("\n\n" + "\n".join(checks) if checks else "")
        print(f"\n## {title}\n\n{text}\n", flush=True)
        sections[title] = f"## {title}\n\n{text}\n"
        verdicts.extend(checks)

    if "turns" in args.sections:
        print("turns: starting each server in turn ...", flush=True)
        opts = TurnOptions(tuple(int(c) for c in args.concurrency.split(",")), args.warmup, args.seconds, args.script,
                           tuple(t for t in args.targets.split(",") if t))
        turns = await bench_turns(opts, workdir)
        script_name = turns.script.name
        intro = (f"Script **{turns.script.name}** ({turns.script.description}); {turns.script_note}. "
                 f"Each conversation repeats it; {args.warmup:g} s warm-up then {args.seconds:g} s measured per row. "
                 "A turn counts when the bot answered 2xx and its reply reached the fake Teams channel "
                 "(the bare handler sends no reply: its 2xx count). CPU = the server process's user+system time "
                 "(/proc) / counted turns. 'load gen CPU' near 100% means the load generator, not the server, was the limit. "
                 "Custodian runs with RATE_LIMIT_PER_MINUTE=0: each bench conversation talks far faster than a person. "
                 "The x2 row: two app.py processes (INSTANCES=2) on one PostgreSQL, each conversation's turns "
                 "alternating between them; its CPU is both processes'.")
        section("1. Turns", intro + "\n\n" + report.turns_table(turns),
                report.turn_verdicts(turns) + report.scaling_verdicts(turns))
        section("4. Memory", report.memory_table(turns), report.memory_verdicts(turns))
    if "fanout" in args.sections:
        print("fanout: preparing the ledger ...", flush=True)
        fan = await bench_fanout(FanoutOptions(reminders=args.reminders), workdir)
        section("2. Reminder fan-out", report.fanout_table(fan), report.fanout_verdicts(fan))
    if "consent" in args.sections:
        print("consent: filling the register ...", flush=True)
        opts_c = ConsentOptions(pupils=args.pupils, lookups=args.lookups, full_lookups=3 if args.quick else 10)
        consent = await bench_consent(opts_c, workdir)
        section("3. Consent lookup", report.consent_table(consent), report.consent_verdicts(consent))
    if "profile" in args.sections:
        print("profile: Custodian under cProfile ...", flush=True)
        script = SCRIPTS[script_name or "breach-report"]
        text = await profile_custodian(script, workdir, concurrency=8, warmup=args.warmup, seconds=args.seconds)
        section("5. Profile of a Custodian turn", "```\n" + text + "\n```")
        stats = workdir / "sweeper.prof"
        fan = await bench_fanout(FanoutOptions(reminders=1_000, profile=stats), workdir,
                                 f"sqlite+aiosqlite:///{workdir / 'profile-fanout.db'}")
        body = fan.skipped or f"{fan.delivered:,} reminders delivered under cProfile.\n\n" + top(stats)
        section("6. Profile of the reminder engine", "```\n" + body + "\n```")
    return verdicts, [sections[title] for title in sorted(sections)]


def main(argv: list[str] | None = None) -> None:
    """Run, print, and write bench/RESULTS.md."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="custodian-bench-"))
    if args.walk:
        print("\n".join(asyncio.run(walk(args.walk, workdir))))
        shutil.rmtree(workdir, ignore_errors=True)
        return
    started = time.monotonic()
    try:
        verdicts, sections = asyncio.run(run(args, workdir))
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    mode = "a quick run (a harness check: a few seconds per section)" if args.quick else "a full run"
    head = ["# Custodian benchmark results", "", f"Written by `python -m bench.run`, {mode}, "
            f"{time.monotonic() - started:.0f} s in all. Figures from a shared 2-core machine vary from run to run; "
            "CPU ms per turn is the steadier figure.", "", *report.machine(), "", "## Targets", "", *verdicts, ""]
    print("\nTargets:\n" + "\n".join(verdicts))
    if not args.no_write:
        RESULTS.write_text("\n".join(head + sections + kept_notes()))
        print(f"wrote {RESULTS.relative_to(RESULTS.parents[1])}")


def kept_notes() -> list[str]:
    """Everything from the KEEP marker on in the old RESULTS.md (e.g. before/after notes), carried into the new one."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    return [old[old.index(KEEP):].rstrip() + "\n"] if KEEP in old else [KEEP, ""]


if __name__ == "__main__":
    main()
