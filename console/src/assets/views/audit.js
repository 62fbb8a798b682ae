// Audit view: the rollout audit log, filtered by flag, tenant, actor and time.
import { gql } from "../api.js";
import { formatDateTime, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";

const filters = { flag: "handbook", tenant: "", actor: "", since: "", until: "" };

function field(name, label, type = "text") {
  const id = `audit-${name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, name, type, value: filters[name] }));
}

function change(row) {
  const show = (v) => (v === null || v === undefined ? "—" : JSON.stringify(v));
  return `${show(row.before)} → ${show(row.after)}`;
}

async function load(table) {
  const day = (d, end) => (d ? new Date(`${d}T${end ? "23:59:59" : "00:00:00"}`).toISOString() : null);
  const variables = { flag: filters.flag || null, tenant: filters.tenant || null,
    actor: filters.actor || null, since: day(filters.since, false), until: day(filters.until, true) };
  try {
    const rows = (await gql("Audit", variables)).rolloutAudit;
    if (!rows.length) return table.replaceChildren(h("p", {}, t("audit.empty")));
    table.replaceChildren(h("table", { id: "audit-table" },
      h("thead", {}, h("tr", {}, ["audit.at", "audit.actor", "audit.action", "flag", "audit.tenant", "audit.change", "audit.reason"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", {}, formatDateTime(r.at)), h("td", {}, r.actor), h("td", { class: "action" }, r.action),
        h("td", {}, r.flag ?? "—"), h("td", {}, r.tenant ?? "—"), h("td", { class: "change" }, change(r)),
        h("td", {}, r.reason || "—"))))));
  } catch (error) {
    table.replaceChildren(alertBox(plainError(error)));
  }
}

export async function auditView(main, _app) {
  destroyCharts();
  const table = h("div", { id: "audit-results", class: "table-wrap", "aria-live": "polite" });
  const form = h("form", { id: "audit-filters", class: "filters", onsubmit: (event) => {
    event.preventDefault();
    for (const [k, v] of new FormData(event.target)) filters[k] = String(v).trim();
    load(table);
  } },
  field("flag", t("flag")), field("tenant", t("audit.tenant")), field("actor", t("audit.actor")),
  field("since", t("audit.since"), "date"), field("until", t("audit.until"), "date"),
  h("button", { type: "submit", class: "primary" }, t("audit.filter")));
  show(main, h("h1", {}, t("audit.title")), form, table);
  await load(table);
}
