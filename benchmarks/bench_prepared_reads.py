"""Benchmark of the board reads' prepared statements (run by hand; not part of the test suite).

The board reads (``arena.leaderboards.caching.CompiledRead``) send their SQL as prepared statements, where
Django sends every statement unprepared. This measures what that saves PostgreSQL: the CPU time of the
connection's backend process (``/proc/<pid>/stat`` of ``pg_backend_pid()``, so the server must run on this
machine) over ``--reads`` reads of each compiled read, prepared as the platform sends them and unprepared
(the same SQL, compiled once, and parameters through Django's own cursor), in alternating rounds, with the
client's wall time per read (the unprepared reads skip turning rows into models). Reports medians over
``--rounds`` rounds. Creates and drops its own database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_bench_prepared \
        .venv/bin/python benchmarks/bench_prepared_reads.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform"), str(REPO / "benchmarks")]

from bench_board_reads import drop_database, recreate_database, scratch_database_url, setup_django  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """User plus system CPU seconds of a PostgreSQL backend process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000, help="reads of each query per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = scratch_database_url()
    recreate_database(url)
    setup_django(tempfile.mkdtemp(prefix="arena-bench-prepared-"))
    from bench_ranking import make_phase
    from django.db import connection

    from arena.leaderboards import caching

    try:
        phase, _, _ = make_phase("bench-prepared", teams=20, submissions=40, fresh=0, seed=3)
        reads = {
            "phase, track and challenge": (caching._board_phase, (phase.pk,)),
            "phase with its boards' snapshots": (caching._board_phase_snapshots, (phase.pk,)),
            "snapshot": (caching._board_snapshot, (phase.pk, "public")),
        }
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()

        def prepared(read, params):
            read.all(*params)

        compiled = {}

        def unprepared(read, params):
            # The SQL compiled once, as CompiledRead keeps it: only the preparation differs.
            if read not in compiled:
                compiled[read] = read.queryset(*params).query.get_compiler(using="default").as_sql()
            sql, sql_params = compiled[read]
            with connection.cursor() as cursor:
                cursor.execute(sql, sql_params)
                cursor.fetchall()

        ways = {"prepared": prepared, "unprepared": unprepared}
        results = {(name, way): {"cpu": [], "wall": []} for name in reads for way in ways}
        for _ in range(args.rounds):
            for name, (read, params) in reads.items():
                for way, run in ways.items():
                    run(read, params)  # the statement prepared (or planned) once before the clock starts
                    cpu, wall = backend_cpu(pid), time.perf_counter()
                    for _ in range(args.reads):
                        run(read, params)
                    results[name, way]["wall"].append((time.perf_counter() - wall) / args.reads)
                    results[name, way]["cpu"].append((backend_cpu(pid) - cpu) / args.reads)
        print(f"{args.rounds} rounds of {args.reads} reads each; medians, milliseconds a read\n")
        print("| read | PostgreSQL CPU unprepared | prepared | ratio | client wall unprepared | prepared |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in reads:
            cpu = {way: statistics.median(results[name, way]["cpu"]) * 1000 for way in ways}
            wall = {way: statistics.median(results[name, way]["wall"]) * 1000 for way in ways}
            ratio = cpu["unprepared"] / cpu["prepared"] if cpu["prepared"] else float("inf")
            print(f"| {name} | {cpu['unprepared']:.3f} | {cpu['prepared']:.3f} | {ratio:.1f}x | "
                  f"{wall['unprepared']:.3f} | {wall['prepared']:.3f} |")
    finally:
        connection.close()
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
