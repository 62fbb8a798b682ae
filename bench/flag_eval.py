"""Flag evaluations per second: PilotGraph's pure evaluator vs Unleash's yggdrasil-engine.

Run: ``.venv/bin/python bench/flag_eval.py [--evaluations N] [--rounds R]``

One realistic configuration — 12 tenants (the demo province), 20 flags, targeting rules on role
and branch, tenant overrides, per-tenant percentage ramps (25/50/100%), one killed flag — is
built once as a PilotGraph snapshot and once as the equivalent Unleash state (a default strategy
per rule/override, a ``flexibleRollout`` constrained to the tenant per ramp). Both answer the same
(flag, member) questions, alternating rounds so machine noise hits both alike. Same-run baselines:
a Python loop that only looks up a dict (the floor any pure-Python evaluator pays), and the share
of answers on which the two engines agree (their buckets differ, so ramps disagree on a few).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from yggdrasil_engine.engine import UnleashEngine

from rollout.evaluation import EvaluationContext, FlagConfig, Rule, evaluate, make_snapshot
from tenants.demo.province import TENANTS

FLAGS = 20
MEMBERS = 5_000
ROLES = ("member", "member", "member", "branch_secretary", "tenant_admin")
RAMPS = (0, 2500, 5000, 10_000)


def build_config(rng: random.Random) -> dict[str, dict[str, Any]]:
    """A neutral description both engines are built from."""
    tenants = [t.slug for t in TENANTS]
    config: dict[str, dict[str, Any]] = {}
    for n in range(FLAGS):
        key = f"handbook.feature-{n:02d}"
        config[key] = {
            "killed": n == 7,
            "overrides": rng.sample(tenants, 1) if n % 5 == 0 else [],
            "rules": [{"role": ["branch_secretary"], "branch": [f"b-{n}-1", f"b-{n}-2"]}]
            if n % 3 == 0
            else [],
            "ramps": {t: rng.choice(RAMPS) for t in tenants},
        }
    return config


def pilotgraph_snapshot(config: dict[str, dict[str, Any]]):
    variants = MappingProxyType({"on": True, "off": False})
    return make_snapshot(
        {
            key: FlagConfig(
                key=key,
                kind="boolean",
                variants=variants,
                default_variant="off",
                rollout_variant="on",
                state="killed" if spec["killed"] else "active",
                version=1,
                rules=tuple(
                    Rule(tuple((a, frozenset(v)) for a, v in sorted(r.items())), "on")
                    for r in spec["rules"]
                ),
                overrides=MappingProxyType(dict.fromkeys(spec["overrides"], "on")),
                rollouts=MappingProxyType({t: bp for t, bp in spec["ramps"].items() if bp}),
            )
            for key, spec in config.items()
        }
    )


def unleash_state(config: dict[str, dict[str, Any]]) -> str:
    features = []
    for key, spec in config.items():
        strategies: list[dict[str, Any]] = []
        if spec["overrides"]:
            strategies.append(
                {
                    "name": "default",
                    "parameters": {},
                    "constraints": [
                        {"contextName": "tenant", "operator": "IN", "values": spec["overrides"]}
                    ],
                }
            )
        for rule in spec["rules"]:
            strategies.append(
                {
                    "name": "default",
                    "parameters": {},
                    "constraints": [
                        {"contextName": attr, "operator": "IN", "values": values}
                        for attr, values in rule.items()
                    ],
                }
            )
        for tenant, bp in spec["ramps"].items():
            if bp:
                strategies.append(
                    {
                        "name": "flexibleRollout",
                        "parameters": {
                            "rollout": str(bp // 100),
                            "stickiness": "userId",
                            "groupId": key,
                        },
                        "constraints": [
                            {"contextName": "tenant", "operator": "IN", "values": [tenant]}
                        ],
                    }
                )
        features.append(
            {
                "name": key,
                "enabled": not spec["killed"],
                "strategies": strategies,
                "type": "release",
                "project": "default",
            }
        )
    return json.dumps({"version": 2, "features": features})


def questions(config, rng: random.Random, count: int):
    tenants = [t.slug for t in TENANTS]
    members = [
        (f"member-{m}", rng.choice(tenants), rng.choice(ROLES), f"b-{rng.randrange(20)}-1")
        for m in range(MEMBERS)
    ]
    keys = list(config)
    asked = []
    for _ in range(count):
        member, tenant, role, branch = rng.choice(members)
        asked.append(
            (
                rng.choice(keys),
                EvaluationContext(
                    tenant=tenant, member=member, roles=frozenset({role}), branch=branch
                ),
                {
                    "userId": member,
                    "properties": {"tenant": tenant, "role": role, "branch": branch},
                },
            )
        )
    return asked


def timed(run: Callable[[], list[bool]]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    answers = run()
    return time.perf_counter() - start, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(20261125)
    config = build_config(rng)
    snapshot = pilotgraph_snapshot(config)
    engine = UnleashEngine()
    warnings = engine.take_state(unleash_state(config))
    assert not warnings, warnings
    asked = questions(config, rng, args.evaluations)
    lookup = {key: True for key in config}

    def ours() -> list[bool]:
        return [evaluate(snapshot, key, ctx).value is True for key, ctx, _ in asked]

    def theirs() -> list[bool]:
        return [engine.check_enabled(key, uctx).is_enabled for key, _, uctx in asked]

    def floor() -> list[bool]:
        return [lookup[key] for key, _, _ in asked]

    times: dict[str, list[float]] = {"pilotgraph": [], "yggdrasil": [], "dict lookup": []}
    answers: dict[str, list[bool]] = {}
    for _ in range(args.rounds):
        for name, run in (("pilotgraph", ours), ("yggdrasil", theirs), ("dict lookup", floor)):
            elapsed, answers[name] = timed(run)
            times[name].append(elapsed)
    print(
        f"configuration: {len(TENANTS)} tenants, {FLAGS} flags (rules, overrides, ramps, "
        f"1 killed); {args.evaluations:,} evaluations x {args.rounds} rounds"
    )
    for name, samples in times.items():
        best, median = min(samples), statistics.median(samples)
        per_s, best_per_s = args.evaluations / median, args.evaluations / best
        micros = median / args.evaluations * 1e6
        print(
            f"{name:<12} {per_s:>12,.0f} evaluations/s (median round), "
            f"{best_per_s:>12,.0f}/s best, {micros:.2f} µs each"
        )
    ratio = statistics.median(times["yggdrasil"]) / statistics.median(times["pilotgraph"])
    # Partial ramps bucket differently (ours: murmur3 % 10000; Unleash: % 100 + 1): compare the
    # answers no partial ramp decided, which must match exactly.
    decided = [
        i
        for i, (key, ctx, _) in enumerate(asked)
        if snapshot.flags[key].rollouts.get(ctx.tenant or "", 0) in (0, 10_000)
        or evaluate(snapshot, key, ctx).reason.value != "SPLIT"
    ]
    agree = sum(answers["pilotgraph"][i] == answers["yggdrasil"][i] for i in decided)
    on = sum(answers["pilotgraph"])
    print(
        f"pilotgraph is {ratio:.2f}x yggdrasil's throughput; {on / len(asked):.1%} on; "
        f"answers not decided by a partial ramp ({len(decided):,}) agree on "
        f"{agree / len(decided):.2%}"
    )


if __name__ == "__main__":
    main()
