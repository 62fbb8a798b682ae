// What waits: pending approvals (approve, reject, withdraw) and scheduled steps (cancel), as the
// API lists them (`rollout.pendingApprovals`, `rollout.scheduledSteps`), and the schedule form.
// Times are the province's (`rollout.timeZone`).
import { formatNumber, t } from "../../i18n.js";
import { alertBox, h, plainError } from "../../ui.js";
import { personName } from "../../words.js";
import { act, ask, stepLabel } from "./act.js";
import { formatZoned, zonedToIso } from "./zone.js";

const withReason = (title) => ({ title, reasonLabel: t("rollout.reason"), reasonRequired: true });

/** Who asked for (or scheduled) a row: their name then, else their subject shortened. */
const requester = (row) => personName(row.requestedByName, null, row.requestedBy);

function approvalText(rollout, approval) {
  const { wave, step, members, tenantCount } = approval.step;
  return t("plan.requested", { actor: requester(approval), at: formatZoned(approval.requestedAt, rollout.timeZone),
    target: stepLabel(rollout, wave, step), members: formatNumber(members), tenants: tenantCount });
}

/** The current text of approval `id` in a rollout, or null once it no longer waits. */
function describe(id, render) {
  return (rollout) => {
    const approval = rollout.pendingApprovals.find((a) => a.id === id);
    return approval ? render(rollout, approval) : null;
  };
}

function decide(ctx, approval, kind) {
  const target = (r, a) => stepLabel(r, a.step.wave, a.step.step);
  const texts = {
    approve: [t("action.approve"), (r, a) => `${t("confirm.approve", { actor: requester(a), wave: a.step.wave, step: a.step.step + 1, tenants: a.step.tenantCount, members: formatNumber(a.step.members) })}`, "ApproveRolloutStep", "done.applied"],
    reject: [t("plan.reject"), (r, a) => t("plan.rejectConfirm", { actor: requester(a), target: target(r, a) }), "RejectRolloutApproval", "plan.rejected"],
    withdraw: [t("plan.withdraw"), (r, a) => t("plan.withdrawConfirm", { target: target(r, a) }), "WithdrawRolloutApproval", "plan.withdrawn"],
  };
  const [title, render, operation, doneKey] = texts[kind];
  return async () => {
    const spec = kind === "approve" ? { title } : withReason(title);
    const reason = await ask(ctx, spec, describe(approval.id, render));
    if (reason === null) return;
    const variables = kind === "approve" ? { id: approval.id } : { id: approval.id, reason };
    await act(ctx, operation, variables, (result) => (kind === "approve" && !result.applied ? t("done.pending") : t(doneKey, { action: title })));
  };
}

export function approvalList(ctx) {
  const { rollout, app } = ctx;
  if (!rollout.pendingApprovals.length) return h("p", { id: "approvals-empty" }, t("rollout.noApprovals"));
  const manage = app.access.canManageRollout;
  return h("ul", { id: "approvals" }, rollout.pendingApprovals.map((a) => {
    const mine = a.requestedBy === app.access.subject;
    const button = (kind, cls, label) => h("button", { type: "button", class: cls, onclick: decide(ctx, a, kind) }, label);
    return h("li", { dataset: { approval: a.id } },
      h("span", { class: "request", title: a.requestedBy }, approvalText(rollout, a), a.reason ? ` — ${a.reason}` : ""), " ",
      manage && !mine ? [button("approve", "approve", t("action.approve")), " ", button("reject", "reject", t("plan.reject"))] : null,
      manage && mine ? button("withdraw", "withdraw", t("plan.withdraw")) : null);
  }));
}

function cancelStep(ctx, s) {
  return async () => {
    const text = (r) => (r.scheduledSteps.some((x) => x.id === s.id)
      ? t("plan.cancelConfirm", { action: t(`action.${s.action}`), at: formatZoned(s.runAt, r.timeZone) }) : null);
    const reason = await ask(ctx, withReason(t("plan.cancelStep")), text);
    if (reason !== null) await act(ctx, "CancelScheduledRolloutStep", { id: s.id, reason }, () => t("plan.cancelled"), "schedule-result");
  };
}

export function scheduledList(ctx) {
  const { rollout, app } = ctx;
  if (!rollout.scheduledSteps.length) return h("p", { id: "scheduled-empty" }, t("rollout.noScheduled"));
  return h("ul", { id: "scheduled" }, rollout.scheduledSteps.map((s) => h("li", { dataset: { step: s.id } },
    h("span", { class: "request", title: s.requestedBy },
      t("rollout.scheduledItem", { action: t(`action.${s.action}`), at: formatZoned(s.runAt, rollout.timeZone), actor: requester(s) }),
      s.reason ? ` — ${s.reason}` : ""), " ",
    app.access.canManageRollout ? h("button", { type: "button", class: "cancel-step", onclick: cancelStep(ctx, s) }, t("plan.cancelStep")) : null)));
}

async function submitSchedule(ctx, event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const zone = ctx.rollout.timeZone;
  try {
    await act(ctx, "ScheduleRolloutStep", { flag: ctx.app.flag, action: form.get("action"),
      runAt: zonedToIso(form.get("runAt"), zone), reason: form.get("reason").trim() },
    (result) => t("rollout.scheduledDone", { at: formatZoned(result.runAt, zone) }), "schedule-result");
  } catch (error) {
    ctx.main.querySelector("#schedule-result").replaceChildren(alertBox(plainError(error)));
  }
}

export function scheduleForm(ctx) {
  const options = ["advance", "pause", "resume", "rollback"].map((a) => h("option", { value: a.toUpperCase() }, t(`action.${a}`)));
  const zone = t("plan.zone", { zone: ctx.rollout.timeZone });
  return h("form", { id: "schedule-form", class: "filters", onsubmit: (event) => submitSchedule(ctx, event) },
    h("div", { class: "field" }, h("label", { for: "schedule-action" }, t("rollout.scheduleAction")), h("select", { id: "schedule-action", name: "action" }, options)),
    h("div", { class: "field" }, h("label", { for: "schedule-at" }, `${t("rollout.scheduleAt")} (${zone})`), h("input", { id: "schedule-at", name: "runAt", type: "datetime-local", required: true })),
    h("div", { class: "field" }, h("label", { for: "schedule-reason" }, t("rollout.reason")), h("input", { id: "schedule-reason", name: "reason", required: true })),
    h("button", { type: "submit" }, t("rollout.schedule")));
}

