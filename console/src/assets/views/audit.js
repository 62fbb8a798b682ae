// Audit view: the rollout audit log in words, filtered by flag, tenant (plan steps that changed the
// tenant's percentage included), actor (any part of it, any case), action and time; "show more"
// pages on to the API's limit.
import { gql } from "../api.js";
import { formatDateTime, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";
import { readRollout, tenantInfo } from "../data.js";
import { ACTIONS, actionName, changeSentence, touchedTenants } from "../words.js";

const PAGE = 100;
const MOST = 500;  // the API's largest page (rolloutAudit first ≤ 500)
const filters = { flag: "handbook", tenant: "", actor: "", action: "", since: "", until: "" };
let shown = PAGE;
let refocus = false;  // after "show more", focus stays on it (or on the count once all is shown)

function field(name, label, type = "text") {
  const id = `audit-${name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, name, type, value: filters[name] }));
}

function actionField() {
  const options = [h("option", { value: "" }, t("audit.action.any")),
    ...ACTIONS.map((code) => h("option", { value: code, selected: code === filters.action || null }, actionName(code)))];
  return h("div", { class: "field" }, h("label", { for: "audit-action" }, t("audit.action")),
    h("select", { id: "audit-action", name: "action" }, options));
}

/** The rows that match the filters the API has no parameter for (tenant through plan steps, partial actor). */
function matching(rows, waves) {
  const actor = filters.actor.toLowerCase();
  return rows.filter((r) => (!actor || r.actor.toLowerCase().includes(actor))
    && (!filters.tenant || touchedTenants(r, waves).includes(filters.tenant)));
}

async function fetchRows() {
  const day = (d, end) => (d ? new Date(`${d}T${end ? "23:59:59" : "00:00:00"}`).toISOString() : null);
  // tenant and actor are matched here: the API's own filters are exact and miss plan steps
  const broad = Boolean(filters.tenant || filters.actor);
  const variables = { flag: filters.flag || null, tenant: null, actor: null, action: filters.action || null,
    since: day(filters.since, false), until: day(filters.until, true), first: broad ? MOST : Math.min(shown + 1, MOST) };
  const rows = (await gql("Audit", variables)).rolloutAudit;
  return { rows, capped: rows.length >= variables.first };
}

function rowOf(r, name) {
  return h("tr", {},
    h("td", {}, formatDateTime(r.at)), h("td", { title: r.actor }, r.actor),
    h("td", { class: "action", title: r.action }, actionName(r.action)),
    h("td", {}, r.flag ?? "—"), h("td", {}, r.tenant ? name(r.tenant) : "—"),
    h("td", { class: "change" }, changeSentence(r, r.waves, name)), h("td", {}, r.reason || "—"));
}

async function load(table, app) {
  table.setAttribute("aria-busy", "true");  // until the rows asked for are shown
  try {
    const [{ rows, capped }, { rollout }] = await Promise.all([fetchRows(), readRollout(filters.flag || app.flag)]);
    const waves = rollout?.waves ?? [];
    const all = matching(rows.map((r) => ({ ...r, waves: r.flag === rollout?.flag ? waves : [] })), waves);
    const page = all.slice(0, shown);
    if (!page.length) return table.replaceChildren(h("p", {}, t("audit.empty")));
    const info = await tenantInfo([...new Set(waves.flatMap((w) => w.tenants).concat(page.map((r) => r.tenant).filter(Boolean)))]);
    const name = (s) => info[s]?.name ?? s;
    const more = (all.length > shown || (capped && shown < MOST))
      ? h("button", { type: "button", id: "audit-more", onclick: () => { shown += PAGE; refocus = true; load(table, app); } }, t("audit.more")) : null;
    table.replaceChildren(h("table", { id: "audit-table" },
      h("thead", {}, h("tr", {}, ["audit.at", "audit.actor", "audit.action", "flag", "audit.tenant", "audit.change", "audit.reason"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, page.map((r) => rowOf(r, name)))),
    h("p", { id: "audit-count", class: "sub", role: "status", tabindex: "-1" }, t("audit.shown", { n: page.length }), " ", more));
    if (refocus) document.getElementById("audit-more")?.focus() ?? document.getElementById("audit-count").focus();
    refocus = false;
  } catch (error) {
    table.replaceChildren(alertBox(plainError(error)));
  } finally {
    table.removeAttribute("aria-busy");
  }
}

export async function auditView(main, app) {
  destroyCharts();
  shown = PAGE;
  const table = h("div", { id: "audit-results", class: "table-wrap", "aria-live": "polite" });
  const form = h("form", { id: "audit-filters", class: "filters", onsubmit: (event) => {
    event.preventDefault();
    for (const [k, v] of new FormData(event.target)) filters[k] = String(v).trim();
    shown = PAGE;
    load(table, app);
  } },
  field("flag", t("flag")), field("tenant", t("audit.tenant")), field("actor", t("audit.actor")), actionField(),
  field("since", t("audit.since"), "date"), field("until", t("audit.until"), "date"),
  h("button", { type: "submit", class: "primary" }, t("audit.filter")));
  show(main, h("h1", {}, t("audit.title")), form, table);
  await load(table, app);
}
