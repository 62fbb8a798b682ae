"""The PrometheusRule: off by default, and every alert reads a metric the gateway exports."""

from __future__ import annotations

import re

from gateway.observability import metrics
from tests.helm.test_chart import Render, of_kind, only

ON = "metrics.prometheusRule.enabled=true"
METRIC = re.compile(r"\b(pilotgraph_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
ALERTS = {
    "PilotGraphServerErrors",
    "PilotGraphOverloaded",
    "PilotGraphNotReady",
    "PilotGraphEventsRefused",
    "PilotGraphScheduleLagging",
    "PilotGraphGuardrailPaused",
}


def exported_series() -> set[str]:
    """The series names a scrape can show, read from the gateway's registry."""
    return {
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def rules(render: Render, *sets: str) -> list[dict[str, object]]:
    rule = only(render("default-values.yaml", ON, *sets), "PrometheusRule")
    [group] = rule["spec"]["groups"]
    return group["rules"]  # type: ignore[no-any-return]


def test_the_rule_is_off_by_default(render):
    # when
    manifests = render("default-values.yaml")
    # then
    assert of_kind(manifests, "PrometheusRule") == []


def test_every_alert_reads_a_metric_the_gateway_exports(render):
    # given
    exported = exported_series()
    # when
    alerts = rules(render)
    # then
    assert {alert["alert"] for alert in alerts} == ALERTS
    for alert in alerts:
        named = set(METRIC.findall(str(alert["expr"])))
        assert named, f"{alert['alert']} reads no pilotgraph metric"
        assert named <= exported, f"{alert['alert']} reads {named - exported}, not exported"


def test_thresholds_come_from_the_values(render):
    # when
    alerts = {
        alert["alert"]: alert
        for alert in rules(
            render,
            "metrics.prometheusRule.overloadedPerSecond=5",
            "metrics.prometheusRule.scheduleLagSeconds=900",
            "metrics.prometheusRule.notReadyFor=2m",
        )
    }
    # then
    assert str(alerts["PilotGraphServerErrors"]["expr"]).rstrip().endswith("> 0.05")
    assert str(alerts["PilotGraphOverloaded"]["expr"]).rstrip().endswith("> 5")
    assert str(alerts["PilotGraphScheduleLagging"]["expr"]).rstrip().endswith("> 900")
    assert alerts["PilotGraphNotReady"]["for"] == "2m"
    assert 'namespace="pilot"' in str(alerts["PilotGraphOverloaded"]["expr"])


def test_the_rule_needs_the_metrics_port(helm):
    # when
    result = helm.template("default-values.yaml", ON, "metrics.enabled=false")
    # then
    assert result.returncode != 0
    assert "metrics.prometheusRule.enabled needs metrics.enabled" in result.stderr


def test_a_bad_threshold_is_refused_by_the_schema(helm):
    # when
    result = helm.template("default-values.yaml", ON, "metrics.prometheusRule.serverErrorRatio=2")
    # then
    assert result.returncode != 0
    assert "serverErrorRatio" in result.stderr
