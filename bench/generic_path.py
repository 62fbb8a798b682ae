"""CPU per request of the generic (strawberry) path: this tree against the ``int`` branch, same run.

Run: ``.venv/bin/python bench/generic_path.py [--requests N] [--rounds R] [--base int] [--keep-db]``

Creates a fresh PostgreSQL database, migrates it, creates the application role and loads the
demo as that role (as ``bench/handbook_query.py`` does). The baseline's code is checked out by
the bench into a ``git worktree`` under ``.cache/`` (``--base``, default ``int``). Three worker
processes then each build the served app in-process (``gateway.app.serve_app``, its lifespan
started) connected as the app role, with the planned path off (``PILOTGRAPH_PLANNED_OPERATIONS``):

- ``base``: the baseline's code;
- ``this``: this tree's code;
- ``this, stock GC``: this tree's code with the collector back to CPython's defaults (unfrozen,
  thresholds 700/10/10), to show what the GC tuning gives.

Each worker sends the member home (the handbook app's ``Home`` document) and a list of 50
members through httpx's ASGI transport, in blocks of ``--requests`` requests, the workers in
turn (the order rotating each round), so that load from other processes falls on all alike.
CPU per request is the worker's process time (server and in-process client) over the requests.
Every answer must be 200 without errors, and the three workers' answers must be equal: any
failure makes the exit status 1. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HOME_DOCUMENT = "clients/trusted-documents/handbook-app/Home.graphql"
MEMBERS_QUERY = """query Members($first: Int!) {
  members(first: $first) { totalCount edges { node { fullName birthYear position status } } }
}"""
STOCK_THRESHOLDS = (700, 10, 10)
MARK = "@generic-path "  # starts the worker's answers on stdout; other lines are not ours


# --- the worker: one tree's served app, in-process ------------------------------------------


async def _worker_loop(tokens: dict[str, str], stock_gc: bool) -> None:
    import httpx

    from gateway.app import serve_app

    app = serve_app()
    queries = _queries(Path.cwd())
    async with app.router.lifespan_context(app):
        if stock_gc:
            gc.unfreeze()
            gc.set_threshold(*STOCK_THRESHOLDS)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            print(MARK + json.dumps({"ready": True}), flush=True)
            for line in sys.stdin:
                name, count = line.split()
                role, body = queries[name]
                result = await _block(client, tokens[role], body, int(count))
                print(MARK + json.dumps(result), flush=True)


def _queries(root: Path) -> dict[str, tuple[str, bytes]]:
    home = (root / HOME_DOCUMENT).read_text()
    return {
        "home": ("member", json.dumps({"query": home}).encode()),
        "members": (
            "tenant_admin",
            json.dumps({"query": MEMBERS_QUERY, "variables": {"first": 50}}).encode(),
        ),
    }


async def _block(client: Any, token: str, body: bytes, count: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    failures: list[str] = []
    answer = None
    started_cpu, started = time.process_time(), time.perf_counter()
    for _ in range(count):
        response = await client.post("/graphql", content=body, headers=headers)
        if response.status_code != 200 or b'"errors"' in response.content:
            failures.append(f"{response.status_code}: {response.text[:200]}")
        answer = response.content
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    text = answer.decode() if answer else ""
    return {"cpu_s": cpu, "wall_s": wall, "n": count, "failures": failures, "answer": text}


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stock-gc", action="store_true")
    parser.add_argument("--tokens", required=True, help="JSON object: role → token")
    args = parser.parse_args(argv)
    asyncio.run(_worker_loop(json.loads(args.tokens), args.stock_gc))
    return 0


# --- the driver -----------------------------------------------------------------------------


@dataclass
class Worker:
    """A worker process and what it measured, per query."""

    name: str
    process: subprocess.Popen[str]
    cpu_s: dict[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    blocks: dict[str, list[float]] = field(default_factory=dict)  # ms per request, per block

    def run(self, query: str, count: int) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{query} {count}\n")
        self.process.stdin.flush()
        result = read_answer(self.process)
        self.cpu_s[query] = self.cpu_s.get(query, 0.0) + result["cpu_s"]
        self.blocks.setdefault(query, []).append(1000.0 * result["cpu_s"] / result["n"])
        self.requests[query] = self.requests.get(query, 0) + result["n"]
        self.answers.setdefault(query, result["answer"])
        self.failures += [f"{self.name}, {query}: {f}" for f in result["failures"]]

    def ms_per_request(self, query: str) -> float:
        return 1000.0 * self.cpu_s[query] / self.requests[query]


def baseline_tree(repo: Path, base: str) -> Path:
    """A worktree of ``base`` under ``.cache/``, checked out at its current commit."""
    tree = repo / ".cache" / f"generic-path-{base.replace('/', '-')}"
    if not tree.exists():
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "add", "--detach", str(tree), base],
            check=True,
            capture_output=True,
        )
    subprocess.run(["git", "-C", str(tree), "checkout", "--detach", base], check=True)
    return tree


def start_worker(
    name: str, tree: Path, env: dict[str, str], tokens: dict[str, str], stock_gc: bool
) -> Worker:
    argv = [sys.executable, "-c", _LAUNCH, str(tree), "--tokens", json.dumps(tokens)]
    if stock_gc:
        argv.append("--stock-gc")
    process = subprocess.Popen(
        argv, cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    if not read_answer(process).get("ready"):
        raise RuntimeError(f"worker {name} did not start")
    return Worker(name, process)


def read_answer(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The worker's next answer, skipping whatever else it printed; {} if it has exited."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(MARK):
            answer: dict[str, Any] = json.loads(line[len(MARK) :])
            return answer
    return {}


# The worker imports the gateway from its own tree (first on sys.path), this file from ours.
_LAUNCH = (
    "import sys, runpy; tree = sys.argv.pop(1); sys.path.insert(0, tree);"
    f" m = runpy.run_path({str(Path(__file__).resolve())!r});"
    " sys.exit(m['worker_main'](sys.argv[1:]))"
)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def measure(workers: list[Worker], rounds: int, count: int) -> None:
    """Warm each worker up, then run blocks, the workers' order rotating every round."""
    for worker in workers:
        for query in ("home", "members"):
            worker.run(query, 20)
            worker.cpu_s.clear(), worker.requests.clear(), worker.blocks.clear()
    for index in range(rounds):
        turn = workers[index % len(workers) :] + workers[: index % len(workers)]
        for query in ("home", "members"):
            for worker in turn:
                worker.run(query, count)


def report(workers: list[Worker]) -> str:
    """Totals per worker, the ratio of totals and the median of the rounds' ratios (which a
    drift of the machine's speed over the run moves less)."""
    base, this, *_ = workers
    names = "".join(f"{w.name:>18}" for w in workers)
    lines = [f"query            {names}   this/base   median of rounds"]
    for query, label in (("home", "member home"), ("members", "50 members")):
        cells = "".join(f"{w.ms_per_request(query):>15.2f} ms" for w in workers)
        ratio = this.ms_per_request(query) / base.ms_per_request(query)
        rounds = [t / b for t, b in zip(this.blocks[query], base.blocks[query], strict=True)]
        lines.append(f"{label:<17}{cells}   {ratio:9.2f}   {statistics.median(rounds):16.2f}")
    return "\n".join(lines)


def differences(workers: list[Worker]) -> list[str]:
    """Every worker must answer each query as the baseline does (as JSON)."""
    base = workers[0]
    return [
        f"{w.name} answers {query} differently from {base.name}"
        for w in workers[1:]
        for query in ("home", "members")
        if json.loads(w.answers[query]) != json.loads(base.answers[query])
    ]


async def tokens_for(database: str) -> dict[str, str]:
    from bench.handbook_query import issue_token

    return {
        role: await issue_token(database, "yen-mo", role) for role in ("member", "tenant_admin")
    }


def run_bench(args: argparse.Namespace, database: str, tokens: dict[str, str]) -> int:
    from bench.handbook_query import app_env

    repo = Path(__file__).resolve().parent.parent
    env = app_env(database) | {"PILOTGRAPH_PLANNED_OPERATIONS": "false"}
    trees = [("base", baseline_tree(repo, args.base), False), ("this", repo, False)]
    trees.append(("this, stock GC", repo, True))
    workers = [start_worker(name, tree, env, tokens, stock) for name, tree, stock in trees]
    try:
        print(f"before: {uptime()}")
        measure(workers, args.rounds, args.requests)
        print(f"after:  {uptime()}")
    finally:
        for worker in workers:
            worker.process.terminate()
            worker.process.wait(timeout=30)
    print(f"\nCPU per request ({args.rounds} rounds of {args.requests} requests per worker):")
    print(report(workers))
    problems = [*(f for w in workers for f in w.failures), *differences(workers)]
    for problem in problems[:10]:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


async def _setup(database: str, *, fresh: bool) -> dict[str, str]:
    from bench._harness import create_database, machine_summary

    print(f"machine: {await machine_summary()}")
    print(f"database {database}")
    if not fresh:
        return await tokens_for(database)
    await create_database(database)
    from bench.handbook_query import prepare_database

    await prepare_database(database)
    return await tokens_for(database)


def main(argv: list[str] | None = None) -> int:
    from bench._harness import drop_database, fresh_db_name

    args = parse_args(argv)
    database = args.database or fresh_db_name("pilotgraph_generic")
    try:
        tokens = asyncio.run(_setup(database, fresh=args.database is None))
        return run_bench(args, database, tokens)
    finally:
        if not (args.keep_db or args.database):
            asyncio.run(drop_database(database))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="requests per block")
    parser.add_argument("--rounds", type=int, default=6, help="blocks per worker and query")
    parser.add_argument("--base", default="int", help="the baseline's branch or commit")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--database", help="use this database, already loaded by an earlier --keep-db run"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.rounds <= 100:
        parser.error("--requests must be in [1, 100000] and --rounds in [1, 100]")
    return args


if __name__ == "__main__":
    sys.exit(main())
