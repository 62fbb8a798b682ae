// The emergency stop: turn the flag off across the province at once (the flag's kill switch), or
// roll the plan back to a chosen earlier step. Both audited; neither waits for a second admin,
// since both only narrow who has the feature (the API says so: `needsSecondApprover` is false).
import { formatNumber, t } from "../../i18n.js";
import { alertBox, h } from "../../ui.js";
import { act, ask, stepLabel } from "./act.js";
import { rollBack, rollbacksOf } from "./steps.js";

function flagSwitch(ctx, state) {
  const kill = state === "KILLED";
  return async () => {
    const title = kill ? t("plan.kill") : t("plan.reactivate");
    const body = kill ? t("plan.killConfirm") : t("plan.reactivateConfirm");
    const reason = await ask(ctx, { title, reasonLabel: t("rollout.reason"), reasonRequired: true }, () => body);
    if (reason === null) return;
    await act(ctx, "SetFlagState", { flag: ctx.app.flag, state, reason, expectedVersion: ctx.rollout.flagVersion },
      () => t(kill ? "plan.killedDone" : "plan.reactivatedDone"), "emergency-result");
  };
}

function rollbackPicker(ctx) {
  const options = rollbacksOf(ctx.rollout);
  if (!options.length) return null;
  const label = (o) => stepLabel(ctx.rollout, o.wave, o.step);
  const select = h("select", { id: "rollback-target" }, options.map((o, i) => h("option", { value: String(i) },
    `${label(o)} — ${formatNumber(o.members)}`)));
  const go = () => {
    const option = options[Number(select.value)];
    return rollBack(ctx, option, label(option), "plan.confirmRollbackTo");
  };
  return h("div", { class: "filters" },
    h("div", { class: "field" }, h("label", { for: "rollback-target" }, t("plan.rollbackTarget")), select),
    h("button", { type: "button", id: "action-rollback-to", onclick: go }, t("plan.rollbackTo")));
}

export function emergencyCard(ctx) {
  const killed = ctx.rollout.flagState === "killed";
  const manage = ctx.app.access.canManageRollout;
  return h("section", { id: "emergency", class: "card" }, h("h2", {}, t("plan.emergency")),
    killed ? alertBox(t("plan.killed")) : null,
    manage ? h("div", { class: "actions" },
      h("button", { type: "button", id: killed ? "action-reactivate" : "action-kill", class: killed ? null : "danger",
        onclick: flagSwitch(ctx, killed ? "ACTIVE" : "KILLED") }, killed ? t("plan.reactivate") : t("plan.kill"))) : null,
    manage ? rollbackPicker(ctx) : null,
    h("div", { id: "emergency-result", "aria-live": "polite" }));
}
