// Carry out one plan action with the version the admin saw; a VERSION_CONFLICT reloads the view
// and says the plan has changed. Dialogs opened here refresh their figures when the live banner
// announces a change, but keep the version they were opened on: a confirmation given to one
// state is never applied to another.
import { gql } from "../../api.js";
import { t } from "../../i18n.js";
import { alertBox, confirmAction, h, plainError } from "../../ui.js";
import { readRollout } from "../../data.js";

export const CONFLICT = "VERSION_CONFLICT";

function say(ctx, resultId, text, kind) {
  ctx.main.querySelector(`#${resultId}`)?.replaceChildren(alertBox(text, kind));
}

/**
 * Run the console operation `operation` with `variables` plus the displayed plan version; on
 * success reload the view and say `done(result)`; on refusal say why (in the result region).
 */
export async function act(ctx, operation, variables, done, resultId = "action-result") {
  try {
    const { result } = await gql(operation, { ...variables, expectedVersion: variables.expectedVersion ?? ctx.rollout.version });
    if (result.errors.some((e) => e.code === CONFLICT)) {
      await ctx.reload();
      say(ctx, resultId, t("plan.changed"), "error");
      return;
    }
    if (result.errors.length) {
      say(ctx, resultId, result.errors.map((e) => e.message).join(" "), "error");
      return;
    }
    await ctx.reload();
    say(ctx, resultId, done(result), "ok");
  } catch (error) {
    say(ctx, resultId, plainError(error), "error");
  }
}

async function refreshOpenDialog(ctx, describe, state) {
  const { rollout } = await readRollout(ctx.app.flag);
  if (!rollout || rollout.version === ctx.rollout.version) return;
  state.changed = true;
  document.getElementById("confirm-body").textContent = describe(rollout) ?? t("plan.noLonger");
  const extra = document.getElementById("confirm-extra");
  if (!extra.querySelector(".plan-changed")) {
    extra.prepend(h("p", { class: "message error plan-changed", role: "alert" }, t("plan.changedInDialog")));
  }
}

/**
 * confirmAction whose body is `describe(ctx.rollout)`; while it is open, a live change re-describes
 * it from the new state. A dialog cancelled after a change reloads the view.
 */
export async function ask(ctx, spec, describe) {
  const state = { changed: false };
  ctx.app.dialogRefresh = () => refreshOpenDialog(ctx, describe, state);
  try {
    const answer = await confirmAction({ ...spec, body: describe(ctx.rollout) });
    if (answer === null && state.changed) await ctx.reload();
    return answer;
  } finally {
    ctx.app.dialogRefresh = null;
  }
}

/** "wave 1, step 2 (50%)", or "on for no tenant" for (-1, -1). */
export function stepLabel(rollout, wave, step) {
  if (wave < 0) return t("plan.nothingOn");
  return t("plan.stepLabel", { wave, step: step + 1, pct: rollout.waves[wave].ramp[step] });
}
