// The province's flags as the API lists them (`rolloutFlags`): state, version, the flags each
// needs on first, what it serves by default, where its plan is, its targeting rules in order as
// sentences ("Vai trò là bí thư chi bộ → bật") and its overrides by district name. Province admins
// get each flag's kill switch (setFlagState with the version shown). Nothing is evaluated here.
import { gql } from "../../api.js";
import { formatDateTime, formatPercent, t } from "../../i18n.js";
import { alertBox, h, plainError } from "../../ui.js";
import { flagName, known, personName, variantName, waveName } from "../../words.js";
import { act, ask } from "./act.js";

const ATTRIBUTES = ["tenants", "roles", "branches", "members"];

/** The flags, or {error} when the role or the server does not give them. */
export async function readFlags() {
  try {
    return { flags: (await gql("RolloutFlags")).rolloutFlags };
  } catch (error) {
    return { error };
  }
}

/** Every tenant slug the flags name (rules on tenant, overrides): for their names. */
export function namedTenants(flags) {
  return flags.flatMap((f) => [...f.overrides.map((o) => o.tenant), ...f.rules.flatMap((r) => r.tenants ?? [])]);
}


function valueName(attribute, value, info) {
  if (attribute === "tenants") return info[value]?.name ?? value;
  if (attribute === "roles") return known(`flags.roleValue.${value}`, value);
  return value;
}

/** "Vai trò là bí thư chi bộ và Đơn vị là Yên Mô hoặc Kim Sơn → bật". */
export function ruleSentence(rule, info) {
  const or = ` ${t("flags.or")} `;
  const parts = ATTRIBUTES.filter((a) => rule[a] !== null && rule[a] !== undefined).map((a) =>
    t(`flags.when.${a}`, { values: rule[a].map((v) => valueName(a, v, info)).join(or) }));
  const when = parts.length ? parts.join(` ${t("flags.and")} `) : t("flags.everyone");
  return `${when} → ${variantName(rule.variant)}`;
}

function planText(plan) {
  if (!plan) return t("flags.noPlan");
  const status = t(`status.${plan.status}`);
  if (plan.wave < 0) return t("flags.planNotStarted", { status });
  return t("flags.plan", { status, wave: waveName(plan.waveName ?? ""), n: plan.wave, step: plan.step + 1,
    pct: formatPercent(plan.percentage / 100) });
}

function overrideItem(o, info) {
  return h("li", { class: "override", dataset: { tenant: o.tenant } },
    h("span", { class: "override-rule" }, `${info[o.tenant]?.name ?? o.tenant} → ${variantName(o.variant)}`),
    h("span", { class: "sub", title: o.updatedBy },
      ` — ${t("flags.overrideWhy", { reason: o.reason, actor: personName(o.updatedByName, null, o.updatedBy), at: formatDateTime(o.updatedAt) })}`));
}

function flagSwitch(ctx, flag) {
  const kill = flag.state === "active";
  const state = kill ? "KILLED" : "ACTIVE";
  const label = t(kill ? "flags.kill" : "flags.reactivate", { name: flagName(flag.key) });
  const go = async () => {
    const body = t(kill ? "flags.killConfirm" : "flags.reactivateConfirm", { name: flagName(flag.key) });
    const reason = await ask(ctx, { title: label, reasonLabel: t("rollout.reason"), reasonRequired: true }, () => body);
    if (reason === null) return;
    await act(ctx, "SetFlagState", { flag: flag.key, state, reason, expectedVersion: flag.version },
      () => t(kill ? "flags.killedDone" : "flags.reactivatedDone", { name: flagName(flag.key) }), "flags-result");
  };
  return h("button", { type: "button", class: kill ? "danger flag-switch" : "flag-switch", dataset: { flag: flag.key }, onclick: go }, label);
}

function flagItem(ctx, flag, info) {
  const parents = flag.parents.length ? t("flags.parents", { flags: flag.parents.map(flagName).join(", ") }) : null;
  const description = known(`code.flag.${flag.key}`, null) ? null : flag.description;
  return h("article", { class: `flag ${flag.state}`, dataset: { flag: flag.key, version: flag.version } },
    h("h3", {}, flagName(flag.key), " ", h("code", {}, flag.key), " ",
      h("span", { class: `badge flag-state ${flag.state}` }, known(`flags.state.${flag.state}`, flag.state))),
    description ? h("p", { class: "sub" }, description) : null,
    h("p", { class: "flag-facts" }, t("flags.version", { n: flag.version }), " · ",
      t("flags.default", { variant: variantName(flag.defaultVariant) }), parents ? ` · ${parents}` : null),
    h("p", { class: "flag-plan" }, planText(flag.plan)),
    h("h4", {}, t("flags.rules")),
    flag.rules.length ? h("ol", { class: "rules" }, flag.rules.map((r) => h("li", { class: "rule" }, ruleSentence(r, info))))
      : h("p", { class: "sub no-rules" }, t("flags.noRules")),
    h("h4", {}, t("flags.overrides")),
    flag.overrides.length ? h("ul", { class: "overrides" }, flag.overrides.map((o) => overrideItem(o, info)))
      : h("p", { class: "sub no-overrides" }, t("flags.noOverrides")),
    ctx.app.access.canManageRollout ? h("div", { class: "actions" }, flagSwitch(ctx, flag)) : null);
}

/** The flags card: every configured flag, or why there is none. */
export function flagsCard(ctx, read, info) {
  const body = read.error ? alertBox(plainError(read.error))
    : read.flags.length ? read.flags.map((f) => flagItem(ctx, f, info)) : h("p", { class: "sub" }, t("flags.none"));
  return h("section", { id: "flags", class: "card" },
    h("h2", {}, t("flags.title")), h("p", { class: "help" }, t("flags.help")), body,
    h("div", { id: "flags-result", "aria-live": "polite" }));
}
