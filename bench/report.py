"""Tables for the terminal and bench/RESULTS.md: the machine, the run, each section's figures and targets."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.consent import ConsentReport
from bench.fanout import TENANT_LIMIT, FanoutReport
from bench.load import LoadResult, percentile
from bench.turns import AGENTS, POSTGRES, POSTGRES_X2, SQLITE, STOCK, TargetResult, TurnsReport
from tests.teams.process import ROOT

Table = list[list[str]]


def fmt(value: float, digits: int = 1) -> str:
    """A number for a table ('-' when unknown)."""
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def markdown(header: list[str], rows: Table) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def machine() -> list[str]:
    """Cores, CPU model, memory, Python, OS, load, commit and date."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return [
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Commit: {commit or 'unknown'}{' (with uncommitted changes)' if dirty else ''}",
        f"- Machine: {os.cpu_count()} cores, {model}, {mem_kb / 1024 / 1024:.0f} GiB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}; load average (1, 5, 15 min) at the end: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg()),
    ]


def _ratio(value: float, base: float) -> str:
    return "-" if not base or math.isnan(base) or math.isnan(value) else f"{value / base:.2f}x"


def turns_table(report: TurnsReport) -> str:
    """One row per target and concurrency, with ratios against the stock echo bot at the same concurrency."""
    stock = {run.concurrency: run for run in report.targets.get(STOCK, TargetResult(STOCK)).runs}
    rows: Table = []
    for target in report.targets.values():
        if target.skipped:
            rows.append([target.label, "-", f"skipped: {target.skipped}", *["-"] * 11])
            continue
        for run in target.runs:
            base = stock.get(run.concurrency)
            rows.append([
                target.label, str(run.concurrency), fmt(run.turns_per_second), fmt(run.percentile(50), 2),
                fmt(run.percentile(95), 2), fmt(run.percentile(99), 2), fmt(run.cpu_ms_per_turn, 2),
                fmt(run.db_round_trips_per_turn, 1), fmt(run.db_cpu_ms_per_turn, 2), str(run.failed),
                str(run.dialogs_done),
                _ratio(run.turns_per_second, base.turns_per_second) if base else "-",
                _ratio(base.cpu_ms_per_turn, run.cpu_ms_per_turn) if base else "-",
                f"{100 * run.loader_cpu_seconds / run.seconds:.0f}%",
            ])
    header = ["target", "conv.", "turns/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/turn", "DB round trips/turn",
              "PostgreSQL CPU ms/turn", "failed",
              "scripts done", "turns/s vs echo", "CPU cheaper than echo", "load gen CPU"]
    why = [f"- {target.label}, {run.concurrency} conv.: " + ", ".join(f"{why} x{n}" for why, n in run.failures.items())
           for target in report.targets.values() for run in target.runs if run.failures]
    return markdown(header, rows) + ("\n\nFailed turns (not counted):\n" + "\n".join(why) if why else "")


def _at(target: TargetResult | None, concurrency: int) -> LoadResult | None:
    return next((run for run in target.runs if run.concurrency == concurrency), None) if target else None


def turn_verdicts(report: TurnsReport, concurrency: int = 32) -> list[str]:
    """The issue's targets for Custodian on SQLite, met or missed."""
    ours, stock, agents = (_at(report.targets.get(key), concurrency) for key in (SQLITE, STOCK, AGENTS))
    if ours is None:
        return [f"- Custodian was not measured at {concurrency} conversations."]
    lines = [f"- Turn p99 at {concurrency} conversations: {fmt(ours.percentile(99), 1)} ms (target <= 50 ms): "
             + _verdict(ours.percentile(99) <= 50)]
    if stock is not None:
        times = ours.turns_per_second / stock.turns_per_second if stock.turns_per_second else float("nan")
        lines.append(f"- Turns/s vs the stock echo bot: {fmt(times, 1)}x (target >= 10x): {_verdict(times >= 10)}")
    cheaper = agents is None or ours.cpu_ms_per_turn < agents.cpu_ms_per_turn
    agents_text = f", Agents SDK echo {fmt(agents.cpu_ms_per_turn, 2)} ms" if agents else ""
    lines.append(f"- CPU per turn: {fmt(ours.cpu_ms_per_turn, 2)} ms (target <= 1.6 ms and below the Agents SDK echo"
                 f"{agents_text}): {_verdict(ours.cpu_ms_per_turn <= 1.6 and cheaper)}")
    return lines


def scaling_verdicts(report: TurnsReport, concurrency: int = 32) -> list[str]:
    """Two processes on one PostgreSQL against one, at the same concurrency."""
    one, two = (_at(report.targets.get(key), concurrency) for key in (POSTGRES, POSTGRES_X2))
    if one is None or two is None or not one.turns_per_second:
        return []
    times = two.turns_per_second / one.turns_per_second
    return [f"- Two processes vs one on PostgreSQL at {concurrency} conversations: {fmt(times, 2)}x turns/s, CPU per turn "
            f"{fmt(two.cpu_ms_per_turn, 2)} vs {fmt(one.cpu_ms_per_turn, 2)} ms (target >= 1.8x): {_verdict(times >= 1.8)}",
            f"- At most {fmt(scaling_ceiling(one), 2)}x on this machine's {os.cpu_count()} cores: every turn also costs "
            "PostgreSQL and the load generator CPU (a measured ratio above this means other work was competing for the "
            "CPU: two processes get a larger share of it than one)"]


def scaling_ceiling(one: LoadResult, processes: int = 2) -> float:
    """The best `processes` app processes can do against one on this machine, from one process's CPU per turn:
    each process runs on one core at most, and app + PostgreSQL + load generator CPU per turn share all cores."""
    if not one.turns:
        return float("nan")
    app, db, loader = one.server_cpu_seconds, one.db_cpu_seconds or 0.0, one.loader_cpu_seconds
    return min(float(processes), (os.cpu_count() or 1) * app / (app + db + loader))


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def memory_table(report: TurnsReport) -> str:
    """RSS of each process at idle and after its turn runs."""
    rows = [[t.label, fmt(t.rss_idle_mb), fmt(t.rss_after_mb)] for t in report.targets.values() if not t.skipped]
    return markdown(["process", "RSS idle MiB", "RSS after the turn runs MiB"], rows)


def memory_verdicts(report: TurnsReport) -> list[str]:
    """Custodian's resident memory against the 150 MiB target."""
    return [f"- {t.label}: {fmt(max(t.rss_idle_mb, t.rss_after_mb))} MiB at most (target <= 150 MiB): "
            + _verdict(max(t.rss_idle_mb, t.rss_after_mb) <= 150)
            for key, t in report.targets.items() if key in (SQLITE, POSTGRES) and not t.skipped]


def fanout_table(report: FanoutReport) -> str:
    """One row: deliveries, duplicates, losses, 429s, time and per-tenant rates."""
    opts = report.options
    if report.skipped:
        return f"Skipped: {report.skipped}."
    sent = report.sweeper.get("sent", 0) or 1
    rows = [[
        f"{opts.reminders:,}", str(opts.tenants), f"{report.delivered:,}", str(report.duplicates), str(report.lost),
        str(report.rejected_429), str(report.still_open), fmt(report.seconds), fmt(report.mean_rate),
        f"{100 * report.mean_rate / TENANT_LIMIT:.0f}%", fmt(min(report.tenant_rates, default=float("nan"))),
        str(report.peak_tenant_rate), fmt(1000 * report.sweeper.get("cpu_seconds", float("nan")) / sent, 2),
        ", ".join(f"{k} {v:,}" for k, v in sorted(report.ledger.items())),
    ]]
    header = ["reminders", "tenants", "delivered", "duplicates", "lost", "429s", "not sent by the deadline", "seconds",
              "sends/s per tenant", f"of {TENANT_LIMIT}/s", "slowest tenant /s", "peak in 1 s", "engine CPU ms/reminder",
              "ledger"]
    return markdown(header, rows) + f"\n\nSet-up (recipients and ledger rows, not timed): {report.setup_seconds:.1f} s."


def fanout_verdicts(report: FanoutReport) -> list[str]:
    """Per-tenant throughput, duplicates and losses against the targets."""
    if report.skipped:
        return [f"- Reminder fan-out: skipped ({report.skipped})"]
    share = report.mean_rate / TENANT_LIMIT
    return [
        f"- Fan-out sends per tenant: {100 * share:.0f}% of {TENANT_LIMIT}/s (target >= 90%): {_verdict(share >= 0.9)}",
        f"- Fan-out duplicates {report.duplicates}, lost {report.lost} (target 0 and 0): "
        + _verdict(report.duplicates == 0 and report.lost == 0 and report.still_open == 0),
    ]


def consent_table(report: ConsentReport) -> str:
    """Lookup latency in a built index and for the whole per-turn path."""
    if report.skipped:
        return f"Skipped: {report.skipped}."
    opts = report.options
    total = len(report.index_ms) + len(report.full_ms)
    rows = [
        ["lookup in a built index", str(len(report.index_ms)), fmt(percentile(report.index_ms, 50), 2),
         fmt(percentile(report.index_ms, 99), 2)],
        ["load_index + lookup, as the consent dialog does each turn", str(len(report.full_ms)),
         fmt(percentile(report.full_ms, 50), 1), fmt(percentile(report.full_ms, 99), 1)],
    ]
    return (f"{opts.pupils:,} pupils in one tenant; queries are names with one swapped-letter typo.\n\n"
            + markdown(["what", "lookups", "p50 ms", "p99 ms"], rows)
            + f"\n\nIntended pupil offered: {report.found}/{total}; candidates shown per lookup: "
            f"{report.offered / max(1, total):.1f}. Set-up: {report.setup_seconds:.1f} s.")


def consent_verdicts(report: ConsentReport) -> list[str]:
    """The slower of the two lookup paths against the 10 ms p99 target."""
    if report.skipped:
        return [f"- Consent lookup: skipped ({report.skipped})"]
    index, full = percentile(report.index_ms, 99), percentile(report.full_ms, 99) if report.full_ms else 0.0
    return [f"- Consent lookup p99: {fmt(index, 2)} ms in a built index, {fmt(full, 1)} ms as a turn does it "
            f"(target <= 10 ms): {_verdict(max(index, full) <= 10)}"]
