// Server codes in the user's language: audit actions, gate metrics, error codes, demo wave names,
// and an audit row's change as a sentence ("Hoa Lư, Kim Sơn, Ninh Bình: 25% → 50%"). Anything the
// console does not know is shown as the server sent it.
import { formatDateTime, formatNumber, formatPercent, t } from "./i18n.js";

/** The words for `key` in the chosen language, or `fallback` when there are none. */
export function known(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

/** "plan.advance" → "Chuyển bước tiếp" (or the code itself when unknown). */
export function actionName(code) {
  return known(`code.action.${code}`, code);
}

/** "activation_rate" → "Tỷ lệ kích hoạt". */
export function metricName(code) {
  return known(`code.metric.${code}`, code);
}

/** An error's text by its code, else the server's own message. */
export function errorText(code, message) {
  return known(`code.error.${code}`, message || code);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A subject as shown when no name is known: a UUID shortened ("11111111…"), others as they are. */
export function shortSubject(subject) {
  return UUID.test(subject ?? "") ? `${subject.slice(0, 8)}…` : (subject ?? "?");
}

/** Who acted: the token's name, else the member directory's, else the subject shortened. */
export function personName(name, memberName, subject) {
  return name || memberName || shortSubject(subject);
}

/** A flag's name ("Sổ tay đảng viên"), or its key when the console has no words for it. */
export const flagName = (key) => known(`code.flag.${key}`, key);
/** A variant in words ("bật", "on"), or as the flag names it. */
export const variantName = (variant) => known(`flags.variant.${variant}`, variant);

/** "Pilot" for wave 0, else "Wave n" (`translate` is the caller's `t`). */
export function waveLabel(translate, position) {
  return position === 0 ? translate("province.pilot") : translate("province.waveN", { n: position });
}

/** A guardrail pause in the chosen language, built from its figures; any other notice as sent. */
export function noticeSentence(notice) {
  const f = notice.figures ?? {};
  if (notice.kind !== "GUARDRAIL_PAUSE" || f.recent === undefined) return notice.message;
  return t("notices.pausedSentence", { flag: flagName(notice.flag ?? ""), wave: notice.wave === null ? "—" : waveLabel(t, notice.wave),
    earlier: formatNumber(f.earlier), recent: formatNumber(f.recent), change: formatPercent(f.change),
    threshold: formatPercent(f.threshold) });
}

/** A wave's name: the demo's names are translated, a province's own names shown as written. */
export function waveName(name) {
  return known(`code.wave.${name}`, name);
}

/** The in-tenant percentage of wave `w` when the plan stands at {wave, step}. */
function percentOf(waves, w, at) {
  if (!at || at.wave === null || at.wave === undefined || at.wave < 0) return 0;
  if (w < at.wave) return waves[w].ramp.at(-1) ?? 0;
  if (w > at.wave) return 0;
  return waves[w].ramp[at.step] ?? 0;
}

function pct(value) {
  return formatPercent(value / 100);
}

/** Each wave whose percentage a plan step changed: "Hoa Lư, Kim Sơn: 25% → 50%". */
function planChange(row, waves, name) {
  const parts = [];
  waves.forEach((wave, w) => {
    const from = percentOf(waves, w, row.before);
    const to = percentOf(waves, w, row.after);
    if (from !== to) parts.push(`${wave.tenants.map(name).join(", ")}: ${pct(from)} → ${pct(to)}`);
  });
  const status = (s) => (s ? t(`status.${s}`) : "—");
  if (!parts.length && row.before?.status !== row.after?.status) {
    parts.push(`${status(row.before?.status)} → ${status(row.after?.status)}`);
  }
  return parts.join("; ");
}

/** An audit row's before → after in words; `waves` is the flag's plan (for plan steps). */
export function changeSentence(row, waves, name = (s) => s) {
  if (row.action.startsWith("plan.") && waves?.length && (row.before || row.after)) {
    const text = planChange(row, waves, name);
    if (text) return text;
  }
  if (row.action === "tenant.ramp") {
    return `${name(row.tenant)}: ${pct(row.before?.percentage ?? 0)} → ${pct(row.after?.percentage ?? 0)}`;
  }
  if (row.action === "approval.request" && row.after) {
    return t("change.request", { wave: row.after.wave, step: (row.after.step ?? 0) + 1 });
  }
  if (row.action === "plan.guardrail") {
    const drop = (v) => (v === null || v === undefined ? t("change.default") : formatPercent(v));
    return `${drop(row.before?.guardrail_drop)} → ${drop(row.after?.guardrail_drop)}`;
  }
  if (row.action === "plan.create" && Array.isArray(row.after?.waves)) {
    return row.after.waves.map((w) => `${waveName(w.name)} (${w.tenants.map(name).join(", ")}): `
      + w.ramp.map(pct).join(" → ")).join("; ");
  }
  return `${plain(row.before)} → ${plain(row.after)}`;
}

// How a field's value reads, for the fields whose values are codes, times or ids.
const VALUE_WORDS = {
  action: (v) => known(`action.${String(v).toLowerCase()}`, v),
  status: (v) => known(`status.${v}`, v),
  state: (v) => known(`flags.state.${v}`, v),
  kind: (v) => known(`code.notice.${v}`, v),
  variant: (v) => variantName(v),
  default_variant: (v) => variantName(v),
  run_at: (v) => formatDateTime(v),
};

/** A field of a before/after in words: its label, else its name with spaces. */
const fieldName = (key) => known(`code.field.${key}`, key.replaceAll("_", " "));

/** Any other before/after (or figures) as "field: value" pairs in words rather than JSON. */
export function plain(value, key = null) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return key in VALUE_WORDS ? VALUE_WORDS[key](value) : shortSubject(String(value));
  if (Array.isArray(value)) return value.map((v) => plain(v)).join(", ");
  return Object.entries(value).map(([k, v]) => `${fieldName(k)}: ${plain(v, k)}`).join("; ");
}

/** The audit actions the filter offers, in the order an admin meets them. */
export const ACTIONS = Object.freeze([
  "plan.create", "plan.start", "plan.advance", "approval.request", "plan.approve", "approval.withdraw",
  "approval.reject", "approval.invalidate", "plan.pause", "plan.resume", "plan.rollback", "plan.guardrail",
  "schedule.create", "schedule.cancel", "schedule.run", "tenant.ramp",
  "flag.create", "flag.update", "flag.override", "flag.rules", "notice.acknowledge",
  "webhook.create", "webhook.rotate", "webhook.remove",
]);
