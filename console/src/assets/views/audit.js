// Audit view: the rollout audit log in words, filtered on the server by flag, tenant (plan steps that
// reached the tenant's wave included), actor (any part of the subject or name, any case), action and
// time; "show more" reads the next page after the last row's cursor, as far as the log goes.
import { gql } from "../api.js";
import { provinceZone, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts } from "../charts.js";
import { readRollout, tenantInfo } from "../data.js";
import { ACTIONS, actionName, changeSentence, flagName, personName } from "../words.js";
import { formatZoned, zonedToIso } from "./rollout/zone.js";

const PAGE = 100;
const filters = { flag: "handbook", tenant: "", actor: "", action: "", since: "", until: "" };
let rows = [];  // the pages read so far, in the server's order
let more = false;  // the last page was full: the server may have more
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

async function fetchPage(after) {
  // a day of the filter is the province's day, as the rows' times are shown; "until" is
  // exclusive, so the chosen day is included up to the next day's midnight
  const next = (d) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const day = (d, end) => (d ? zonedToIso(`${end ? next(d) : d}T00:00`, provinceZone()) : null);
  const variables = { flag: filters.flag || null, tenant: filters.tenant || null, actor: filters.actor || null,
    action: filters.action || null, since: day(filters.since, false), until: day(filters.until, true),
    first: PAGE, after };
  const page = (await gql("Audit", variables)).rolloutAudit;
  rows = after ? rows.concat(page) : page;
  more = page.length === PAGE;
}

function rowOf(r, name) {
  return h("tr", {},
    h("td", {}, formatZoned(r.at, provinceZone())), h("td", { class: "actor", title: r.actor }, personName(r.actorName, r.actorMemberName, r.actor)),
    h("td", { class: "action", title: r.action }, actionName(r.action)),
    h("td", { title: r.flag }, r.flag ? flagName(r.flag) : "—"), h("td", {}, r.tenant ? name(r.tenant) : "—"),
    h("td", { class: "change" }, changeSentence(r, r.waves, name)), h("td", {}, r.reason || "—"));
}

async function load(table, app, after = null) {
  table.setAttribute("aria-busy", "true");  // until the rows asked for are shown
  try {
    const [, { rollout }] = await Promise.all([fetchPage(after), readRollout(filters.flag || app.flag)]);
    const waves = rollout?.waves ?? [];
    const page = rows.map((r) => ({ ...r, waves: r.flag === rollout?.flag ? waves : [] }));
    if (!page.length) return table.replaceChildren(h("p", {}, t("audit.empty")));
    const info = await tenantInfo([...new Set(waves.flatMap((w) => w.tenants).concat(page.map((r) => r.tenant).filter(Boolean)))]);
    const name = (s) => info[s]?.name ?? s;
    const next = () => { refocus = true; load(table, app, rows[rows.length - 1].cursor); };
    const button = more ? h("button", { type: "button", id: "audit-more", onclick: next }, t("audit.more")) : null;
    table.replaceChildren(h("table", { id: "audit-table" },
      h("thead", {}, h("tr", {}, ["audit.at", "audit.actor", "audit.action", "flag", "audit.tenant", "audit.change", "audit.reason"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, page.map((r) => rowOf(r, name)))),
    h("p", { id: "audit-count", class: "sub", role: "status", tabindex: "-1" }, t("audit.shown", { n: page.length }), " ", button));
    if (refocus) (document.getElementById("audit-more") ?? document.getElementById("audit-count")).focus();
    refocus = false;
  } catch (error) {
    table.replaceChildren(alertBox(plainError(error)));
  } finally {
    table.removeAttribute("aria-busy");
  }
}

export async function auditView(main, app) {
  destroyCharts();
  rows = [];
  const table = h("div", { id: "audit-results", class: "table-wrap", "aria-live": "polite" });
  const form = h("form", { id: "audit-filters", class: "filters", onsubmit: (event) => {
    event.preventDefault();
    for (const [k, v] of new FormData(event.target)) filters[k] = String(v).trim();
    load(table, app);
  } },
  field("flag", t("flag")), field("tenant", t("audit.tenant")), field("actor", t("audit.actor")), actionField(),
  field("since", t("audit.since"), "date"), field("until", t("audit.until"), "date"),
  h("button", { type: "submit", class: "primary" }, t("audit.filter")));
  show(main, h("h1", {}, t("audit.title")), form, table);
  await load(table, app);
}
