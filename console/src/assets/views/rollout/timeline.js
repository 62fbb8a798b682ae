// The top of the rollout page: the waves in order (done, where the plan is, what is next, each
// gate's verdict from the API), and why the plan is paused when the guardrail paused it.
import { gql } from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { waveLabel } from "../../data.js";
import { noticeSentence, waveName } from "../../words.js";

function waveState(rollout, wave) {
  if (wave.position < rollout.wave) return ["done", t("plan.waveDone")];
  if (wave.position === rollout.wave) {
    return ["current", t("plan.waveCurrent", { step: rollout.step + 1, steps: wave.ramp.length, pct: wave.ramp[rollout.step] })];
  }
  return wave.position === rollout.wave + 1 ? ["next", t("plan.waveNext")] : ["later", t("plan.waveLater")];
}

function gateText(wave) {
  if (!wave.gate) return t("plan.gateNone");
  return wave.gate.passed ? t("plan.gatePass") : t("plan.gateFail");
}

export function timeline(rollout, info) {
  return h("nav", { id: "timeline", class: "card", "aria-label": t("plan.timeline") },
    h("h2", {}, t("plan.timeline")),
    h("ol", { class: "timeline" }, rollout.waves.map((wave) => {
      const [state, text] = waveState(rollout, wave);
      const gate = wave.gate ? (wave.gate.passed ? "pass" : "fail") : "none";
      return h("li", { class: `tl ${state}`, dataset: { wave: wave.position, state, gate }, "aria-current": state === "current" ? "step" : null },
        h("strong", {}, `${waveLabel(t, wave.position)}: ${waveName(wave.name)}`), " — ", text,
        h("br"), h("span", { class: "sub" }, wave.tenants.map((s) => info[s]?.name ?? s).join(", ")),
        " · ", h("span", { class: `verdict ${gate}` }, gateText(wave)));
    })));
}

/** When the plan is paused and a guardrail notice says why: that reason, linking the notice. */
export async function pauseBanner(rollout, flag) {
  if (rollout.status !== "paused") return null;
  const notices = (await gql("RolloutNotices", { flag, unacknowledgedOnly: false })).rolloutNotices;
  const notice = notices.find((n) => n.kind === "GUARDRAIL_PAUSE");
  if (!notice) return null;
  return h("p", { id: "pause-reason", class: "message error", role: "status" },
    t("plan.pausedBy", { message: noticeSentence(notice) }), " ", h("a", { href: "#/notices" }, t("plan.seeNotice")));
}
