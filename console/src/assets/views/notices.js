// Notices view: what the province's admins are told, e.g. that the guardrail paused a plan,
// newest first with the unacknowledged ones highlighted; province admins acknowledge them.
import { gql } from "../api.js";
import { formatDate, formatDateTime, formatNumber, formatPercent, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";
import { tenantInfo, waveLabel } from "../data.js";
import { flagName, noticeSentence, personName, plain } from "../words.js";

const filters = { flag: "", unacknowledgedOnly: false };

function waveCell(wave) {
  if (wave === null) return h("td", {}, "—");
  return h("td", {}, h("span", { class: wave === 0 ? "badge pilot" : "badge wave" }, waveLabel(t, wave)));
}

/** The guardrail's figures in words (the week's total, then each district by name); anything
 * else as JSON. */
function figuresCell(notice, info) {
  const f = notice.figures ?? {};
  if (notice.kind !== "GUARDRAIL_PAUSE" || f.recent === undefined) {
    return h("td", { class: "change" }, plain(f));
  }
  const total = t("notices.weekly", { earlier: formatNumber(f.earlier), recent: formatNumber(f.recent),
    change: formatPercent(f.change), asOf: formatDate(f.as_of), threshold: formatPercent(f.threshold) });
  return h("td", { class: "figures" }, h("p", {}, total),
    h("ul", {}, Object.entries(f.tenants ?? {}).map(([slug, c]) => h("li", { dataset: { tenant: slug }, title: slug },
      `${info[slug]?.name ?? slug}: ${formatNumber(c.earlier)} → ${formatNumber(c.recent)}`))));
}

function stateCell(notice) {
  if (!notice.acknowledgedAt) return h("td", { class: "state" }, h("strong", { class: "badge new" }, t("notices.new")));
  const actor = personName(notice.acknowledgedByName, null, notice.acknowledgedBy);
  return h("td", { class: "state", title: notice.acknowledgedBy }, t("notices.acknowledgedBy", { actor, at: formatDateTime(notice.acknowledgedAt) }));
}

async function acknowledge(notice, button, table, app) {
  const status = document.getElementById("notice-result");
  button.disabled = true;  // one request per click, however impatient
  try {
    const { result } = await gql("AcknowledgeRolloutNotice", { id: notice.id });
    if (result.errors.length) {
      button.disabled = false;
      return status.replaceChildren(alertBox(result.errors.map((e) => e.message).join(" ")));
    }
    await load(table, app);
    status.replaceChildren(alertBox(t("notices.acknowledged"), "ok"));
  } catch (error) {
    button.disabled = false;
    status.replaceChildren(alertBox(plainError(error)));
  }
}

function noticeRow(notice, table, app, info) {
  const open = !notice.acknowledgedAt;
  const message = `notice-message-${notice.id}`;
  return h("tr", { class: open ? "unacknowledged" : null, dataset: { notice: notice.id } },
    h("td", {}, formatDateTime(notice.createdAt)), h("td", { title: notice.flag }, flagName(notice.flag)), waveCell(notice.wave),
    h("td", { id: message, class: "message-text", title: notice.message }, noticeSentence(notice)), figuresCell(notice, info), stateCell(notice),
    app.access.canManageRollout ? h("td", {}, open ? h("button", { type: "button", class: "acknowledge",
      "aria-describedby": message, onclick: (event) => acknowledge(notice, event.currentTarget, table, app) }, t("notices.acknowledge")) : null) : null);
}

async function load(table, app) {
  const variables = { flag: filters.flag || null, unacknowledgedOnly: filters.unacknowledgedOnly };
  try {
    const rows = (await gql("RolloutNotices", variables)).rolloutNotices;  // newest first, as the API lists them
    if (!rows.length) return table.replaceChildren(h("p", { id: "notices-empty" }, t("notices.empty")));
    const open = rows.filter((n) => !n.acknowledgedAt).length;
    const info = await tenantInfo([...new Set(rows.flatMap((n) => Object.keys(n.figures?.tenants ?? {})))]);
    const head = ["notices.at", "flag", "province.wave", "notices.message", "notices.figures", "notices.state"];
    table.replaceChildren(
      h("p", { id: "notices-pending", class: "sub" }, t("notices.pending", { n: open })),
      h("table", { id: "notices-table" },
        h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))),
          app.access.canManageRollout ? h("th", { scope: "col" }, t("rollout.actions")) : null)),
        h("tbody", {}, rows.map((n) => noticeRow(n, table, app, info)))));
  } catch (error) {
    table.replaceChildren(alertBox(plainError(error)));
  }
}

export async function noticesView(main, app) {
  destroyCharts();
  const table = h("div", { id: "notices-results", class: "table-wrap", "aria-live": "polite" });
  const form = h("form", { id: "notices-filters", class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    filters.flag = String(data.get("flag")).trim();
    filters.unacknowledgedOnly = data.get("unacknowledgedOnly") === "on";
    load(table, app);
  } },
  h("div", { class: "field" }, h("label", { for: "notices-flag" }, t("flag")),
    h("input", { id: "notices-flag", name: "flag", value: filters.flag })),
  h("div", { class: "field check" }, h("input", { id: "notices-open", name: "unacknowledgedOnly", type: "checkbox", checked: filters.unacknowledgedOnly }),
    h("label", { for: "notices-open" }, t("notices.unacknowledgedOnly"))),
  h("button", { type: "submit", class: "primary" }, t("audit.filter")));
  show(main, h("h1", {}, t("notices.title")),
    app.access.readsProvince && !app.access.canManageRollout ? alertBox(t("notices.readOnly"), "info") : null,
    form, h("div", { id: "notice-result", "aria-live": "polite" }), table);
  await load(table, app);
}
