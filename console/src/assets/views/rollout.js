// Rollout view: the wave timeline (and why the plan is paused) at the top, then the actions, the
// emergency stop, what waits (approvals, scheduled steps), the guardrail and each wave's gate.
// Every figure and every rule (impact, four eyes, what waits) is the API's: this view only shows
// them, and every action carries the plan version it displayed (see rollout/act.js).
import { formatPercent, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";
import { readRollout, tenantInfo, waveLabel } from "../data.js";
import { flagName, metricName, waveName } from "../words.js";
import { act } from "./rollout/act.js";
import { emergencyCard } from "./rollout/emergency.js";
import { flagsCard, namedTenants, readFlags } from "./rollout/flags.js";
import { actionButtons } from "./rollout/steps.js";
import { pauseBanner, timeline } from "./rollout/timeline.js";
import { formatZoned } from "./rollout/zone.js";
import { approvalList, scheduleForm, scheduledList } from "./rollout/waiting.js";

function membersOn(rollout, info) {
  return rollout.tenants.reduce((n, s) => n + Math.round(((info[s.tenant]?.memberCount ?? 0) * s.percentage) / 100), 0);
}

function gateTable(wave, info) {
  if (!wave.gate) return h("p", { class: "gate none" }, t("rollout.noGate"));
  const verdict = wave.gate.passed ? t("rollout.gatePass") : t("rollout.gateFail");
  return h("div", { class: "gate" },
    h("p", {}, h("strong", {}, `${t("rollout.gate")}: `),
      h("span", { class: `verdict ${wave.gate.passed ? "pass" : "fail"}` }, verdict),
      ` (${t("rollout.sustain", { n: wave.gate.sustainDays })})`),
    h("table", { class: "gate-table" },
      h("thead", {}, h("tr", {}, ["province.tenant", "rollout.metric", "rollout.minimum", "rollout.current", "rollout.daysHeld", "rollout.gate"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, wave.gate.results.map((r) => h("tr", {},
        h("td", { title: r.tenant }, info[r.tenant]?.name ?? r.tenant), h("td", { class: "metric", title: r.metric }, metricName(r.metric)),
        h("td", { class: "num" }, formatPercent(r.minimum)),
        h("td", { class: "num" }, formatPercent(r.current)), h("td", { class: "num" }, r.daysHeld),
        h("td", { class: r.passed ? "pass" : "fail" }, r.passed ? t("rollout.gatePass") : t("rollout.gateFail")))))));
}

function waveSection(rollout, wave, info) {
  const current = wave.position === rollout.wave;
  return h("section", { class: `wave${current ? " current" : ""}`, dataset: { wave: wave.position }, "aria-current": current ? "step" : null },
    h("h3", {}, h("span", { class: wave.position === 0 ? "badge pilot" : "badge wave" }, waveLabel(t, wave.position)), ` ${waveName(wave.name)}`,
      current ? h("span", { class: "marker" }, ` — ${t("rollout.current.marker")}`) : null),
    h("p", {}, wave.tenants.map((s) => info[s]?.name ?? s).join(", ")),
    h("p", { class: "sub" }, t("rollout.ramp", { ramp: wave.ramp.map((p) => `${p}%`).join(" → ") }), " · ",
      wave.startedAt ? t("rollout.started", { at: formatZoned(wave.startedAt, rollout.timeZone) }) : t("rollout.notStarted")),
    gateTable(wave, info));
}

/** The plan's guardrail in words: its own threshold, off, or the deployment's default (null). */
function guardrailText(drop, effective) {
  if (drop === null || drop === undefined) {
    return effective ? t("rollout.guardrailDefault", { pct: formatPercent(effective) }) : t("rollout.guardrailOff");
  }
  return drop === 0 ? t("rollout.guardrailOff") : t("rollout.guardrailDrop", { pct: formatPercent(drop) });
}

async function saveGuardrail(ctx, event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const pct = String(form.get("drop")).trim();
  // the input is in percent, the API takes a fraction (0.1 % steps: no float noise)
  await act(ctx, "SetRolloutGuardrail", { flag: ctx.app.flag, reason: form.get("reason").trim(),
    drop: pct === "" ? null : Math.round(Number(pct) * 10) / 1000 }, () => t("rollout.guardrailDone"), "guardrail-result");
}

function guardrailForm(ctx) {
  const { rollout } = ctx;
  const current = rollout.guardrailDrop === null ? "" : String(Math.round(rollout.guardrailDrop * 1000) / 10);
  return [
    h("p", { id: "guardrail-help", class: "help" }, t("rollout.guardrailHelp")),
    h("form", { id: "guardrail-form", class: "filters", onsubmit: (event) => saveGuardrail(ctx, event) },
      h("div", { class: "field" }, h("label", { for: "guardrail-drop" }, t("rollout.guardrailInput")),
        h("input", { id: "guardrail-drop", name: "drop", type: "number", min: "0", max: "99.9", step: "0.1", value: current, "aria-describedby": "guardrail-help" })),
      h("div", { class: "field" }, h("label", { for: "guardrail-reason" }, t("rollout.reason")), h("input", { id: "guardrail-reason", name: "reason", required: true })),
      h("button", { type: "submit" }, t("rollout.guardrailSet"))),
  ];
}

function page(ctx, info, banner, flags) {
  const { rollout, app } = ctx;
  const manage = app.access.canManageRollout;
  return [
    h("h1", {}, t("rollout.title", { flag: flagName(app.flag) })),
    h("p", { id: "rollout-status", class: "sub", dataset: { version: rollout.version } },
      t("rollout.status", { status: t(`status.${rollout.status}`), wave: rollout.wave, step: rollout.step + 1 })),
    banner, timeline(rollout, info),
    h("section", { class: "card" }, h("h2", {}, t("rollout.actions")),
      manage ? actionButtons(ctx, membersOn(rollout, info)) : alertBox(t("rollout.readOnly"), "info"),
      h("div", { id: "action-result", "aria-live": "polite" })),
    emergencyCard(ctx),
    h("section", { class: "card" }, h("h2", {}, t("rollout.approvals")), approvalList(ctx)),
    h("section", { class: "card" }, h("h2", {}, t("rollout.scheduled")), scheduledList(ctx),
      manage ? scheduleForm(ctx) : null, h("div", { id: "schedule-result", "aria-live": "polite" })),
    h("section", { id: "guardrail", class: "card" }, h("h2", {}, t("rollout.guardrail")),
      h("p", { id: "guardrail-threshold" }, guardrailText(rollout.guardrailDrop, rollout.guardrailEffectiveDrop)),
      manage ? guardrailForm(ctx) : null, h("div", { id: "guardrail-result", "aria-live": "polite" })),
    h("h2", {}, t("rollout.waves")),
    rollout.waves.map((w) => waveSection(rollout, w, info)),
    flagsCard(ctx, flags, info),
  ];
}

/** Tenant names for the plan's tenants and those the flags name. */
function tenantsOf(rollout, flags) {
  return [...new Set([...(rollout?.tenants.map((s) => s.tenant) ?? []), ...namedTenants(flags.flags ?? [])])];
}

export async function rolloutView(main, app) {
  destroyCharts();
  const [{ rollout, error }, flags] = await Promise.all([readRollout(app.flag), readFlags()]);
  const ctx = { main, app, rollout, reload: () => rolloutView(main, app) };
  const title = h("h1", {}, t("rollout.title", { flag: flagName(app.flag) }));
  try {
    const info = await tenantInfo(tenantsOf(rollout, flags));
    if (error) {
      show(main, title, alertBox(plainError(error)), flagsCard(ctx, flags, info));
      return;
    }
    show(main, page(ctx, info, await pauseBanner(rollout, app.flag), flags));
  } catch (err) {
    show(main, title, alertBox(plainError(err)));
  }
}
