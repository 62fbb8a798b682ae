// The plan's action buttons (start/advance, pause, resume, roll back): each confirmation says what
// the API says the step changes (`rollout.nextSteps`), and whether a second admin must approve.
import { formatNumber, t } from "../../i18n.js";
import { h } from "../../ui.js";
import { waveName } from "../../words.js";
import { act, ask } from "./act.js";

const OPERATIONS = { start: "StartRollout", advance: "AdvanceRollout", pause: "PauseRollout", resume: "ResumeRollout", rollback: "RollbackRollout" };

export const forwardOf = (rollout) => rollout.nextSteps.find((o) => o.action === "start" || o.action === "advance") ?? null;
export const rollbacksOf = (rollout) => rollout.nextSteps.filter((o) => o.action === "rollback");
const sameTarget = (a) => (o) => o.action === a.action && o.wave === a.wave && o.step === a.step;

function forwardText(rollout, name) {
  const option = forwardOf(rollout);
  if (!option || option.action !== name) return null;
  const wave = rollout.waves[option.wave];
  return t(`confirm.${name}`, { wave: option.wave, name: waveName(wave.name), pct: wave.ramp[option.step], tenants: option.tenantCount, members: formatNumber(option.members) });
}

function forwardButton(ctx, option) {
  const { rollout } = ctx;
  const name = option.action;
  const wave = rollout.waves[option.wave];
  const gateFails = option.wave !== rollout.wave && wave.gate && !wave.gate.passed;
  return [name, async () => {
    const reason = await ask(ctx, {
      title: t(`action.${name}`),
      note: option.needsSecondApprover ? t("confirm.approvalNote") : null,
      reasonLabel: gateFails ? t("rollout.override") : null, reasonRequired: gateFails,
    }, (r) => forwardText(r, name));
    if (reason === null) return;
    const done = (result) => (result.applied ? t("done.applied", { action: t(`action.${name}`) }) : t("done.pending"));
    await act(ctx, OPERATIONS[name], { flag: ctx.app.flag, ...(name === "advance" ? { reason: reason || null } : {}) }, done);
  }];
}

/** The confirmation text of a rollback to `target`, from a rollout's own options. */
export function rollbackText(rollout, target, key = "confirm.rollback") {
  const option = rollbacksOf(rollout).find(sameTarget(target));
  if (!option) return null;
  return t(key, { tenants: option.tenantCount, members: formatNumber(option.members), target: target.label });
}

export async function rollBack(ctx, option, label, key) {
  const target = { ...option, label };
  const reason = await ask(ctx, { title: t("action.rollback"), reasonLabel: t("rollout.reason"), reasonRequired: true },
    (r) => rollbackText(r, target, key));
  if (reason === null) return;
  await act(ctx, OPERATIONS.rollback, { flag: ctx.app.flag, reason, toWave: option.wave, toStep: option.step },
    () => t("done.applied", { action: t("action.rollback") }));
}

function statusButton(ctx, name, body) {
  return [name, async () => {
    const reason = await ask(ctx, { title: t(`action.${name}`), reasonLabel: t("rollout.reason"), reasonRequired: true }, () => body);
    if (reason !== null) await act(ctx, OPERATIONS[name], { flag: ctx.app.flag, reason }, () => t("done.applied", { action: t(`action.${name}`) }));
  }];
}

/** The action buttons the plan's state allows, as the API lists them. */
export function actionButtons(ctx, membersOn) {
  const { rollout } = ctx;
  const entries = [];
  const forward = forwardOf(rollout);
  if (forward) entries.push(forwardButton(ctx, forward));
  if (rollout.status === "running") entries.push(statusButton(ctx, "pause", t("confirm.pause", { members: formatNumber(membersOn) })));
  if (rollout.status === "paused") entries.push(statusButton(ctx, "resume", t("confirm.resume")));
  const [nearest] = rollbacksOf(rollout);
  if (nearest && rollout.status !== "draft") entries.push(["rollback", () => rollBack(ctx, nearest, "", "confirm.rollback")]);
  return h("div", { class: "actions", role: "group", "aria-label": t("rollout.actions") },
    entries.map(([name, onclick]) => h("button", { type: "button", id: `action-${name}`, onclick }, t(`action.${name}`))));
}
