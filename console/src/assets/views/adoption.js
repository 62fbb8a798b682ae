// Adoption view: activation and monthly active members over time per tenant and per wave
// (pilot against the others), monthly uses, the retention cohort table; CSV of what is shown.
import { formatNumber, formatPercent, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { barChart, destroyCharts, lineChart } from "../charts.js";
import { adoptionByTenant, adoptionByWave, readRollout, retention, tenantInfo, visibleTenants, waveLabel } from "../data.js";

const MONTHS = 6;

function chartCard(id, title) {
  const canvas = h("canvas", { id, role: "img", "aria-label": title });
  return { canvas, card: h("section", { class: "card chart" }, h("h2", {}, title), h("div", { class: "chart-box" }, canvas)) };
}

function csvOf(rows) {
  const cell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return rows.map((r) => r.map((v) => cell(v ?? "")).join(",")).join("\n") + "\n";
}

function csvLink(rows) {
  const href = URL.createObjectURL(new Blob([csvOf(rows)], { type: "text/csv" }));
  return h("a", { id: "adoption-csv", class: "button", href, download: "adoption.csv" }, t("adoption.csv"));
}

function cohortTable(cohorts) {
  if (!cohorts.length) return h("p", { id: "retention-empty" }, t("adoption.noCohorts"));
  const width = Math.max(...cohorts.map((c) => c.rates.length));
  return h("table", { id: "retention-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("adoption.cohort")), h("th", { scope: "col" }, t("adoption.activated")),
      Array.from({ length: width }, (_, k) => h("th", { scope: "col" }, t("adoption.monthK", { k }))))),
    h("tbody", {}, cohorts.map((c) => h("tr", {}, h("th", { scope: "row" }, c.month.slice(0, 7)),
      h("td", { class: "num" }, formatNumber(c.activated)), c.rates.map((r) => h("td", { class: "num" }, formatPercent(r)))))));
}

export async function adoptionView(main, app) {
  destroyCharts();
  try {
    const { rollout } = await readRollout(app.flag);
    const slugs = await visibleTenants(app, rollout);
    const [info, byTenant] = await Promise.all([tenantInfo(slugs), adoptionByTenant(slugs, MONTHS)]);
    const waves = rollout ? await adoptionByWave(app.flag, MONTHS) : [];
    const cohorts = await retention(app.access.readsProvince ? null : app.access.tenant, MONTHS);
    const labels = (byTenant[slugs[0]] ?? []).map((p) => p.start.slice(0, 7));
    const name = (s) => info[s]?.name ?? s;
    const activation = chartCard("chart-activation", t("adoption.activation"));
    const mam = chartCard("chart-mam", t("adoption.mam"));
    const wave = chartCard("chart-waves", t("adoption.byWave"));
    const uses = chartCard("chart-uses", t("adoption.uses"));
    const rows = [["tenant", "month_start", "month_end", "members", "activation_rate", "active_members", "uses"]];
    for (const s of slugs) for (const p of byTenant[s]) rows.push([s, p.start, p.end, p.members, p.activationRate, p.activeMembers, p.uses]);
    for (const w of waves) for (const p of w.points) rows.push([`wave:${w.position}`, p.start, p.end, p.members, p.activationRate, p.activeMembers, p.uses]);
    show(main, 
      h("h1", {}, t("adoption.title")),
      h("p", { class: "sub" }, `${t("flag")}: ${app.flag} · ${t("adoption.months")}: ${MONTHS} `, csvLink(rows)),
      h("div", { class: "charts" }, activation.card, mam.card, waves.length ? wave.card : null, uses.card),
      h("section", { class: "card" }, h("h2", {}, t("adoption.retention")), cohortTable(cohorts)),
    );
    lineChart(activation.canvas, { labels, percent: true, series: slugs.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.activationRate) })) });
    lineChart(mam.canvas, { labels, series: slugs.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.activeMembers) })) });
    if (waves.length) lineChart(wave.canvas, { labels, percent: true, series: waves.map((w) => ({ label: `${waveLabel(t, w.position)}: ${w.name}`, emphasis: w.position === 0, values: w.points.map((p) => p.activationRate) })) });
    barChart(uses.canvas, { labels, series: slugs.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.uses) })) });
  } catch (error) {
    show(main, h("h1", {}, t("adoption.title")), alertBox(plainError(error)));
  }
}
