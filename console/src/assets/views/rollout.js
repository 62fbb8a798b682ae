// Rollout view: waves and gates now, pending approvals, scheduled steps, the guardrail's
// threshold, and the actions — each behind a confirmation that says what changes for how many members.
import { gql } from "../api.js";
import { formatDateTime, formatNumber, formatPercent, t } from "../i18n.js";
import { alertBox, confirmAction, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";
import { readRollout, tenantInfo, waveLabel } from "../data.js";

// The console's operations for each action (clients/trusted-documents/console/<Name>.graphql).
const MUTATIONS = {
  start: "StartRollout", advance: "AdvanceRollout", pause: "PauseRollout",
  resume: "ResumeRollout", rollback: "RollbackRollout", approve: "ApproveRolloutStep",
};

/** Percentage each tenant has at plan position (wave, step). */
function percentages(rollout, [wave, step]) {
  const out = {};
  rollout.waves.forEach((w) => {
    const pct = w.position < wave ? w.ramp.at(-1) : w.position === wave ? w.ramp[step] ?? 0 : 0;
    for (const slug of w.tenants) out[slug] = pct;
  });
  return out;
}

function nextPosition(rollout) {
  const { wave, step, waves } = rollout;
  if (wave < 0) return [0, 0];
  if (step < waves[wave].ramp.length - 1) return [wave, step + 1];
  return wave + 1 < waves.length ? [wave + 1, 0] : null;
}

function previousPosition(rollout) {
  const { wave, step, waves } = rollout;
  if (step > 0) return [wave, step - 1];
  return wave > 0 ? [wave - 1, waves[wave - 1].ramp.length - 1] : [-1, -1];
}

/** Members who gain (>0) or lose (<0) the flag moving between positions, and tenants touched. */
function impact(rollout, info, from, to) {
  const before = percentages(rollout, from);
  const after = percentages(rollout, to);
  let members = 0;
  let tenants = 0;
  for (const slug of Object.keys(after)) {
    if (after[slug] === before[slug]) continue;
    tenants += 1;
    members += Math.round(((info[slug]?.memberCount ?? 0) * (after[slug] - before[slug])) / 100);
  }
  return { members: Math.abs(members), tenants };
}

/** The engine's four-eyes rule: any step of the last wave, or the flag on in over half the tenants. */
function needsApproval(rollout, [wave, step]) {
  if (wave === rollout.waves.length - 1) return true;
  const pct = percentages(rollout, [wave, step]);
  const on = Object.values(pct).filter((p) => p > 0).length;
  return on * 2 > rollout.tenants.length;
}

function membersOn(rollout, info) {
  return rollout.tenants.reduce((n, s) => n + Math.round(((info[s.tenant]?.memberCount ?? 0) * s.percentage) / 100), 0);
}

/**
 * Approval requests not yet carried out, and scheduled steps not yet run, derived from the audit
 * log. The API lists both directly (`rollout(flag) { pendingApprovals scheduledSteps }`); this view
 * still reads the audit rows instead.
 */
async function pending(flag) {
  const rows = (await gql("PendingApprovals", { flag })).rolloutAudit;
  const ids = (action, key) => new Set(rows.filter((r) => r.action === action).map((r) => r.after?.[key]));
  const approved = ids("plan.approve", "approval_id");
  const ran = ids("schedule.run", "id");
  return {
    approvals: rows.filter((r) => r.action === "approval.request" && !approved.has(r.after?.approval_id)),
    scheduled: rows.filter((r) => r.action === "schedule.create" && !ran.has(r.after?.id)).reverse(),
  };
}

function gateTable(wave) {
  if (!wave.gate) return h("p", { class: "gate none" }, t("rollout.noGate"));
  const verdict = wave.gate.passed ? t("rollout.gatePass") : t("rollout.gateFail");
  return h("div", { class: "gate" },
    h("p", {}, h("strong", {}, `${t("rollout.gate")}: `),
      h("span", { class: `verdict ${wave.gate.passed ? "pass" : "fail"}` }, verdict),
      ` (${t("rollout.sustain", { n: wave.gate.sustainDays })})`),
    h("table", { class: "gate-table" },
      h("thead", {}, h("tr", {}, ["province.tenant", "rollout.metric", "rollout.minimum", "rollout.current", "rollout.daysHeld", "rollout.gate"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, wave.gate.results.map((r) => h("tr", {},
        h("td", {}, r.tenant), h("td", {}, r.metric), h("td", { class: "num" }, formatPercent(r.minimum)),
        h("td", { class: "num" }, formatPercent(r.current)), h("td", { class: "num" }, r.daysHeld),
        h("td", { class: r.passed ? "pass" : "fail" }, r.passed ? t("rollout.gatePass") : t("rollout.gateFail")))))));
}

function waveSection(rollout, wave, info) {
  const current = wave.position === rollout.wave;
  return h("section", { class: `wave${current ? " current" : ""}`, dataset: { wave: wave.position }, "aria-current": current ? "step" : null },
    h("h3", {}, h("span", { class: wave.position === 0 ? "badge pilot" : "badge wave" }, waveLabel(t, wave.position)), ` ${wave.name}`,
      current ? h("span", { class: "marker" }, ` — ${t("rollout.current.marker")}`) : null),
    h("p", {}, wave.tenants.map((s) => info[s]?.name ?? s).join(", ")),
    h("p", { class: "sub" }, t("rollout.ramp", { ramp: wave.ramp.map((p) => `${p}%`).join(" → ") }), " · ",
      wave.startedAt ? t("rollout.started", { at: formatDateTime(wave.startedAt) }) : t("rollout.notStarted")),
    gateTable(wave));
}

async function act(main, app, name, variables, doneText) {
  const status = main.querySelector("#action-result");
  try {
    const { result } = await gql(MUTATIONS[name], { ...variables });
    if (result.errors.length) {
      status.replaceChildren(alertBox(result.errors.map((e) => e.message).join(" ")));
      return;
    }
    await rolloutView(main, app);
    main.querySelector("#action-result").replaceChildren(
      alertBox(result.applied ? t("done.applied", { action: doneText }) : t("done.pending"), "ok"));
  } catch (error) {
    status.replaceChildren(alertBox(plainError(error)));
  }
}

function actionButtons(main, app, rollout, info) {
  const on = membersOn(rollout, info);
  const position = [rollout.wave, rollout.step];
  const target = nextPosition(rollout);
  const buttons = [];
  const add = (name, onclick) => buttons.push(h("button", { type: "button", id: `action-${name}`, onclick }, t(`action.${name}`)));
  if (rollout.status === "draft" || (rollout.status === "running" && target)) {
    const name = rollout.status === "draft" ? "start" : "advance";
    add(name, async () => {
      const size = impact(rollout, info, position, target);
      const wave = rollout.waves[target[0]];
      const gateFails = target[0] !== rollout.wave && wave.gate && !wave.gate.passed;
      const reason = await confirmAction({
        title: t(`action.${name}`),
        body: t(`confirm.${name}`, { wave: target[0], name: wave.name, pct: wave.ramp[target[1]], ...size, members: formatNumber(size.members) }),
        note: needsApproval(rollout, target) ? t("confirm.approvalNote") : null,
        reasonLabel: gateFails ? t("rollout.override") : null, reasonRequired: gateFails,
      });
      if (reason === null) return;
      await act(main, app, name, { flag: app.flag, reason: reason || null }, t(`action.${name}`));
    });
  }
  if (rollout.status === "running") {
    add("pause", async () => {
      const reason = await confirmAction({ title: t("action.pause"), body: t("confirm.pause", { members: formatNumber(on) }), reasonLabel: t("rollout.reason"), reasonRequired: true });
      if (reason !== null) await act(main, app, "pause", { flag: app.flag, reason }, t("action.pause"));
    });
  }
  if (rollout.status === "paused") {
    add("resume", async () => {
      const reason = await confirmAction({ title: t("action.resume"), body: t("confirm.resume"), reasonLabel: t("rollout.reason"), reasonRequired: true });
      if (reason !== null) await act(main, app, "resume", { flag: app.flag, reason }, t("action.resume"));
    });
  }
  if (rollout.wave >= 0 && rollout.status !== "draft") {
    add("rollback", async () => {
      const size = impact(rollout, info, position, previousPosition(rollout));
      const reason = await confirmAction({ title: t("action.rollback"), body: t("confirm.rollback", { ...size, members: formatNumber(size.members) }), reasonLabel: t("rollout.reason"), reasonRequired: true });
      if (reason !== null) await act(main, app, "rollback", { flag: app.flag, reason }, t("action.rollback"));
    });
  }
  return h("div", { class: "actions", role: "group", "aria-label": t("rollout.actions") }, buttons);
}

function approvalList(main, app, rollout, info, approvals) {
  if (!approvals.length) return h("p", { id: "approvals-empty" }, t("rollout.noApprovals"));
  return h("ul", { id: "approvals" }, approvals.map((a) => {
    const to = [a.after.wave, a.after.step];
    const size = impact(rollout, info, [rollout.wave, rollout.step], to);
    const mine = a.actor === app.access.subject;
    return h("li", { dataset: { approval: a.after.approval_id } },
      t("rollout.requestedBy", { actor: a.actor, at: formatDateTime(a.at), wave: to[0], step: to[1] + 1 }),
      a.reason ? ` — ${a.reason}` : "", " ",
      app.access.canManageRollout && !mine ? h("button", { type: "button", class: "approve", onclick: async () => {
        const ok = await confirmAction({ title: t("action.approve"), body: t("confirm.approve", { actor: a.actor, wave: to[0], step: to[1] + 1, ...size, members: formatNumber(size.members) }) });
        if (ok !== null) await act(main, app, "approve", { id: a.after.approval_id }, t("action.approve"));
      } }, t("action.approve")) : null);
  }));
}

function scheduledList(scheduled) {
  if (!scheduled.length) return h("p", { id: "scheduled-empty" }, t("rollout.noScheduled"));
  return h("ul", { id: "scheduled" }, scheduled.map((s) => h("li", {},
    t("rollout.scheduledItem", { action: t(`action.${s.after.action}`), at: formatDateTime(s.after.run_at), actor: s.actor }),
    s.reason ? ` — ${s.reason}` : "")));
}

function scheduleForm(main, app) {
  const options = ["advance", "pause", "resume", "rollback"].map((a) => h("option", { value: a.toUpperCase() }, t(`action.${a}`)));
  return h("form", { id: "schedule-form", class: "filters", onsubmit: async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const status = main.querySelector("#schedule-result");
    try {
      const { result } = await gql("ScheduleRolloutStep", { flag: app.flag, action: form.get("action"),
        runAt: new Date(form.get("runAt")).toISOString(), reason: form.get("reason").trim() });
      if (result.errors.length) return status.replaceChildren(alertBox(result.errors.map((e) => e.message).join(" ")));
      await rolloutView(main, app);
      main.querySelector("#schedule-result").replaceChildren(alertBox(t("rollout.scheduledDone", { at: formatDateTime(result.runAt) }), "ok"));
    } catch (error) {
      status.replaceChildren(alertBox(plainError(error)));
    }
  } },
  h("div", { class: "field" }, h("label", { for: "schedule-action" }, t("rollout.scheduleAction")), h("select", { id: "schedule-action", name: "action" }, options)),
  h("div", { class: "field" }, h("label", { for: "schedule-at" }, t("rollout.scheduleAt")), h("input", { id: "schedule-at", name: "runAt", type: "datetime-local", required: true })),
  h("div", { class: "field" }, h("label", { for: "schedule-reason" }, t("rollout.reason")), h("input", { id: "schedule-reason", name: "reason", required: true })),
  h("button", { type: "submit" }, t("rollout.schedule")));
}

/** The plan's guardrail in words: its own threshold, off, or the deployment's default (null). */
function guardrailText(drop, effective) {
  if (drop === null || drop === undefined) {
    return effective ? t("rollout.guardrailDefault", { pct: formatPercent(effective) }) : t("rollout.guardrailOff");
  }
  return drop === 0 ? t("rollout.guardrailOff") : t("rollout.guardrailDrop", { pct: formatPercent(drop) });
}

async function saveGuardrail(main, app, event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const pct = String(form.get("drop")).trim();
  const status = main.querySelector("#guardrail-result");
  try {
    // the input is in percent, the API takes a fraction (0.1 % steps: no float noise)
    const { result } = await gql("SetRolloutGuardrail", { flag: app.flag, reason: form.get("reason").trim(),
      drop: pct === "" ? null : Math.round(Number(pct) * 10) / 1000 });
    if (result.errors.length) return status.replaceChildren(alertBox(result.errors.map((e) => e.message).join(" ")));
    await rolloutView(main, app);
    main.querySelector("#guardrail-result").replaceChildren(alertBox(t("rollout.guardrailDone"), "ok"));
  } catch (error) {
    status.replaceChildren(alertBox(plainError(error)));
  }
}

function guardrailForm(main, app, rollout) {
  const current = rollout.guardrailDrop === null ? "" : String(Math.round(rollout.guardrailDrop * 1000) / 10);
  return [
    h("p", { id: "guardrail-help", class: "help" }, t("rollout.guardrailHelp")),
    h("form", { id: "guardrail-form", class: "filters", onsubmit: (event) => saveGuardrail(main, app, event) },
      h("div", { class: "field" }, h("label", { for: "guardrail-drop" }, t("rollout.guardrailInput")),
        h("input", { id: "guardrail-drop", name: "drop", type: "number", min: "0", max: "99.9", step: "0.1", value: current, "aria-describedby": "guardrail-help" })),
      h("div", { class: "field" }, h("label", { for: "guardrail-reason" }, t("rollout.reason")), h("input", { id: "guardrail-reason", name: "reason", required: true })),
      h("button", { type: "submit" }, t("rollout.guardrailSet"))),
  ];
}

export async function rolloutView(main, app) {
  destroyCharts();
  const { rollout, error } = await readRollout(app.flag);
  if (error) {
    show(main, h("h1", {}, t("rollout.title", { flag: app.flag })), alertBox(plainError(error)));
    return;
  }
  try {
    const info = await tenantInfo(rollout.tenants.map((s) => s.tenant));
    const { approvals, scheduled } = await pending(app.flag);
    show(main, 
      h("h1", {}, t("rollout.title", { flag: app.flag })),
      h("p", { id: "rollout-status", class: "sub", dataset: { version: rollout.version } },
        t("rollout.status", { status: t(`status.${rollout.status}`), wave: rollout.wave, step: rollout.step + 1 })),
      h("section", { class: "card" }, h("h2", {}, t("rollout.actions")),
        app.access.canManageRollout ? actionButtons(main, app, rollout, info) : alertBox(t("rollout.readOnly"), "info"),
        h("div", { id: "action-result", "aria-live": "polite" })),
      h("section", { id: "guardrail", class: "card" }, h("h2", {}, t("rollout.guardrail")),
        h("p", { id: "guardrail-threshold" }, guardrailText(rollout.guardrailDrop, rollout.guardrailEffectiveDrop)),
        app.access.canManageRollout ? guardrailForm(main, app, rollout) : null, h("div", { id: "guardrail-result", "aria-live": "polite" })),
      h("section", { class: "card" }, h("h2", {}, t("rollout.approvals")), approvalList(main, app, rollout, info, approvals)),
      h("section", { class: "card" }, h("h2", {}, t("rollout.scheduled")), scheduledList(scheduled),
        app.access.canManageRollout ? scheduleForm(main, app) : null, h("div", { id: "schedule-result", "aria-live": "polite" })),
      h("h2", {}, t("rollout.waves")),
      rollout.waves.map((w) => waveSection(rollout, w, info)),
    );
  } catch (err) {
    show(main, h("h1", {}, t("rollout.title", { flag: app.flag })), alertBox(plainError(err)));
  }
}
