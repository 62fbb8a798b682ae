"""bench/vs_postgraphile.py's own logic, without servers: arguments, the rows it compares, wrk's
output. The bench itself is run by hand (it serves three servers and drives them for minutes)."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from bench import vs_postgraphile as bench

MEETING = uuid.UUID("2c20accc-100c-4b55-8cd4-51e1aa5e515c")
NOTICE = uuid.UUID("52fdb08d-33a3-4cfb-ae02-6ea6a9289325")


def global_id(type_name: str, value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{value}".encode()).decode().rstrip("=")


def pilotgraph_home(title: str = "Sinh hoạt chi bộ") -> dict[str, object]:
    return {
        "me": {
            "fullName": "Bùi Minh Nam",
            "position": "Đảng viên",
            "branch": {"name": "Chi bộ số 1"},
        },
        "meetings": [
            {
                "id": global_id("Meeting", MEETING),
                "title": title,
                "startsAt": "2027-01-09T08:00:00+07:00",
                "place": "Nhà văn hóa",
            }
        ],
        "notices": [
            {
                "id": global_id("Notice", NOTICE),
                "title": "Phòng, chống bão lũ",
                "kind": "GOVERNMENT_TASK",
                "publishedAt": "2026-11-13T02:00:00+00:00",
            }
        ],
    }


def postgraphile_home() -> dict[str, object]:
    return {
        "me": {
            "fullName": "Bùi Minh Nam",
            "position": "Đảng viên",
            "branch": {"name": "Chi bộ số 1"},
        },
        "meetings": {
            "nodes": [
                {
                    "rowId": str(MEETING),
                    "title": "Sinh hoạt chi bộ",
                    "startsAt": "2027-01-09T01:00:00.000000+00:00",
                    "place": "Nhà văn hóa",
                }
            ]
        },
        "notices": {
            "nodes": [
                {
                    "rowId": str(NOTICE),
                    "title": "Phòng, chống bão lũ",
                    "kind": "government_task",
                    "publishedAt": "2026-11-13T02:00:00.000000+00:00",
                }
            ]
        },
    }


def test_equal_homes_read_as_equal_rows():
    # given: the same member home as PilotGraph and PostGraphile spell it (global ID / rowId,
    # enum / text, +07:00 / UTC with microseconds)
    ours, theirs = pilotgraph_home(), postgraphile_home()
    # when
    rows = bench.pilotgraph_home(ours), bench.postgraphile_home(theirs)
    # then
    assert rows[0] == rows[1]
    assert rows[0]["meetings"][0][0] == MEETING


def test_a_different_title_reads_as_different_rows():
    # given: one meeting title differs by a Vietnamese tone mark
    ours, theirs = pilotgraph_home(title="Sinh hoạt chi bô"), postgraphile_home()
    # when / then
    assert bench.pilotgraph_home(ours) != bench.postgraphile_home(theirs)


def test_member_lists_compare_count_and_order():
    # given
    node = {"fullName": "Bùi Công Huy", "birthYear": 1956, "position": "Đảng viên"}
    second = {**node, "fullName": "Bùi Công Long"}
    ours = {
        "members": {
            "totalCount": 2,
            "edges": [
                {"node": {**node, "status": "OFFICIAL"}},
                {"node": {**second, "status": "OFFICIAL"}},
            ],
        }
    }
    theirs = {
        "allMembers": {
            "totalCount": 2,
            "nodes": [{**node, "status": "official"}, {**second, "status": "official"}],
        }
    }
    reversed_ = {"allMembers": {"totalCount": 2, "nodes": theirs["allMembers"]["nodes"][::-1]}}
    # when / then
    assert bench.pilotgraph_members(ours) == bench.postgraphile_members(theirs)
    assert bench.pilotgraph_members(ours) != bench.postgraphile_members(reversed_)


def test_home_is_sent_by_its_manifest_hash_without_text():
    # when
    hashed, text = (json.loads(body) for body in bench.home_request())
    # then: by hash to the servers under test; as the same text to a baseline commit
    assert "query" not in hashed
    assert hashed["operationName"] == "Home"
    assert len(hashed["extensions"]["persistedQuery"]["sha256Hash"]) == 64
    assert "extensions" not in text
    assert text["query"].startswith("query Home")


def test_a_baseline_target_is_sent_the_documents_as_text():
    # given
    work, _ = bench.workloads()
    server = bench.Server(name="baseline", port=1, process=None, log=Path("/dev/null"))  # type: ignore[arg-type]
    baseline = bench.Target("generic at f5d23d6", server, text=True)
    current = bench.Target("PilotGraph generic", server)
    for workload in work:
        # when / then
        assert json.loads(baseline.body(workload))["query"]
        assert "query" not in json.loads(current.body(workload))


def test_wrk_output_adds_up_across_blocks(tmp_path: Path):
    # given: two blocks' outputs, the second with a bad answer
    first, second = tmp_path / "1.out", tmp_path / "2.out"
    first.write_text(
        "requests 3\nduration_us 1000\nnon2xx 0\nlatency_us 900 2\nlatency_us 5000 1\n"
    )
    second.write_text('requests 1\nbad_answers 1\nfirst_bad 200 {"errors":[]}\nlatency_us 900 1\n')
    tally = bench.Tally()
    # when
    bench.read_wrk_out(first, tally)
    bench.read_wrk_out(second, tally)
    # then
    assert tally.requests == 4
    assert tally.latencies_us == {900: 3, 5000: 1}
    assert tally.latency_ms(0.50) == 0.9
    assert tally.latency_ms(0.99) == 5.0
    assert tally.failures["bad_answers"] == 1


def test_arguments_default_to_the_issue_and_quick_shortens_blocks(monkeypatch):
    # given: a machine with cores 0 and 1
    monkeypatch.setattr(bench.os, "sched_getaffinity", lambda _pid: {0, 1})
    # when
    default, quick = bench.parse_args([]), bench.parse_args(["--quick"])
    # then
    assert (default.connections, default.block, default.rounds) == (16, 10.0, 2)
    assert (default.server_cpu, default.load_cpu) == (0, 1)
    assert (quick.block, quick.warmup) == (3.0, 1.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--server-cpu", "1", "--load-cpu", "1"], "two different cores of [0, 1]"),
        (["--load-cpu", "7"], "two different cores of [0, 1]"),
        (["--rounds", "0"], "--rounds in [1, 20]"),
        (["--connections", "0"], "--connections must be in [1, 1024]"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(monkeypatch, capsys, argv, message):
    # given
    monkeypatch.setattr(bench.os, "sched_getaffinity", lambda _pid: {0, 1})
    # when
    with pytest.raises(SystemExit) as exited:
        bench.parse_args(argv)
    # then
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
