// Adoption view: activation and monthly active members over time per tenant and per wave
// (pilot against the others), monthly uses, the retention cohort table. A time range, a district
// and a wave narrow what is shown; the CSV button downloads the server's /v1/adoption.csv for it,
// and the wave chart's own button the server's wave rows (`by=wave`) of the waves it shows.
import { download } from "../api.js";
import { formatDate, formatNumber, formatPercent, monthLabel, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { barChart, destroyCharts, lineChart } from "../charts.js";
import { adoptionByTenant, adoptionByWave, period, readRollout, retention, tenantInfo, visibleTenants, waveLabel } from "../data.js";
import { flagName, waveName } from "../words.js";

const RANGES = [3, 6, 12];
const filters = { months: 6, tenant: "", wave: "" };

function chartCard(id, title) {
  const canvas = h("canvas", { id, role: "img", "aria-label": title });
  return { canvas, card: h("section", { class: "card chart" }, h("h2", {}, title), h("div", { class: "chart-box" }, canvas)) };
}

function select(name, label, options, app) {
  const id = `adoption-${name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { id, name, onchange: (event) => { filters[name] = name === "months" ? Number(event.target.value) : event.target.value; refocus = id; app.render(); } },
      options.map(([value, text]) => h("option", { value, selected: String(filters[name]) === String(value) || null }, text))));
}

let refocus = null;  // the filter just changed keeps the focus after the view re-renders

function filterForm(app, slugs, waves, name) {
  return h("form", { id: "adoption-filters", class: "filters", onsubmit: (e) => e.preventDefault() },
    select("months", t("adoption.range"), RANGES.map((m) => [m, t("adoption.lastMonths", { n: m })]), app),
    slugs.length > 1 || filters.tenant ? select("tenant", t("adoption.district"), [["", t("adoption.allDistricts")], ...slugs.map((s) => [s, name(s)])], app) : null,
    waves.length ? select("wave", t("province.wave"), [["", t("adoption.allWaves")], ...waves.map((w) => [w.position, `${waveLabel(t, w.position)}: ${waveName(w.name)}`])], app) : null);
}

/** The server's CSV of the shown tenants over the shown range (one request per tenant when narrowed). */
async function downloadCsv(shown, all, button) {
  const { from, to } = period(filters.months);
  const query = (slug) => `/v1/adoption.csv?from=${from}&to=${to}&granularity=month${slug ? `&tenant=${encodeURIComponent(slug)}` : ""}`;
  const status = document.getElementById("adoption-csv-status");
  try {
    await download(shown.length === all.length ? [query(null)] : shown.map(query), `adoption-${from}-${to}.csv`);
    status.replaceChildren();
  } catch (error) {
    status.replaceChildren(alertBox(plainError(error)));
  }
  button.focus();
}

/** The server's wave rows (`by=wave`) of the waves shown: every wave, or the one the filter chose. */
async function downloadWaveCsv(flag, button) {
  const { from, to } = period(filters.months);
  const wave = filters.wave === "" ? "" : `&wave=${encodeURIComponent(filters.wave)}`;
  const status = document.getElementById("adoption-csv-status");
  try {
    await download([`/v1/adoption.csv?from=${from}&to=${to}&granularity=month&by=wave&flag=${encodeURIComponent(flag)}${wave}`],
      `adoption-waves-${flag}-${from}-${to}.csv`);
    status.replaceChildren();
  } catch (error) {
    status.replaceChildren(alertBox(plainError(error)));
  }
  button.focus();
}

function cohortTable(cohorts) {
  if (!cohorts.length) return h("p", { id: "retention-empty" }, t("adoption.noCohorts"));
  const width = Math.max(...cohorts.map((c) => c.rates.length));
  return h("table", { id: "retention-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("adoption.cohort")), h("th", { scope: "col" }, t("adoption.activated")),
      Array.from({ length: width }, (_, k) => h("th", { scope: "col" }, t("adoption.monthK", { k }))))),
    h("tbody", {}, cohorts.map((c) => h("tr", {}, h("th", { scope: "row" }, monthLabel(c.month)),
      h("td", { class: "num" }, formatNumber(c.activated)), c.rates.map((r) => h("td", { class: "num" }, formatPercent(r)))))));
}

function shownTenants(slugs, waves) {
  const wave = waves.find((w) => String(w.position) === String(filters.wave));
  return slugs.filter((s) => (!filters.tenant || s === filters.tenant) && (!wave || wave.tenants.includes(s)));
}

async function read(app) {
  // the plan's waves are for province readers; a tenant admin is not sent a read they are refused
  const { rollout } = app.access.readsProvince ? await readRollout(app.flag) : {};
  const slugs = await visibleTenants(app, rollout);
  const planWaves = rollout?.waves ?? [];
  const shown = shownTenants(slugs, planWaves);
  const [info, byTenant] = await Promise.all([tenantInfo(slugs), adoptionByTenant(shown, filters.months)]);
  const waves = rollout ? (await adoptionByWave(app.flag, filters.months))
    .filter((w) => filters.wave === "" || String(w.position) === String(filters.wave)) : [];
  const cohorts = await retention(app.access.readsProvince ? (filters.tenant || null) : app.access.tenant, filters.months);
  return { slugs, planWaves, shown, info, byTenant, waves, cohorts };
}

function draw(cards, data, labels, name) {
  const { shown, byTenant, waves } = data;
  const axes = (y) => ({ x: t("adoption.axisMonth"), y });
  lineChart(cards.activation.canvas, { labels, percent: true, axes: axes(t("code.metric.activation_rate")),
    series: shown.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.activationRate) })) });
  lineChart(cards.mam.canvas, { labels, axes: axes(t("adoption.axisMembers")),
    series: shown.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.activeMembers) })) });
  if (waves.length) lineChart(cards.wave.canvas, { labels, percent: true, axes: axes(t("code.metric.activation_rate")),
    series: waves.map((w) => ({ label: `${waveLabel(t, w.position)}: ${waveName(w.name)}`, emphasis: w.position === 0, values: w.points.map((p) => p.activationRate) })) });
  barChart(cards.uses.canvas, { labels, axes: axes(t("adoption.axisUses")),
    series: shown.map((s) => ({ label: name(s), values: byTenant[s].map((p) => p.uses) })) });
}

export async function adoptionView(main, app) {
  destroyCharts();
  try {
    const data = await read(app);
    const { slugs, planWaves, shown, info, byTenant, waves, cohorts } = data;
    const today = period(1).to;
    const labels = (byTenant[shown[0]] ?? waves[0]?.points ?? []).map((p) => monthLabel(p.start, p.end >= today ? today : null));
    const name = (s) => info[s]?.name ?? s;
    const cards = { activation: chartCard("chart-activation", t("adoption.activation")), mam: chartCard("chart-mam", t("adoption.mam")),
      wave: chartCard("chart-waves", t("adoption.byWave")), uses: chartCard("chart-uses", t("adoption.uses")) };
    const csv = h("button", { type: "button", id: "adoption-csv", onclick: (e) => downloadCsv(shown, slugs, e.currentTarget) }, t("adoption.csv"));
    cards.wave.card.append(h("button", { type: "button", id: "adoption-wave-csv", onclick: (e) => downloadWaveCsv(app.flag, e.currentTarget) }, t("adoption.waveCsv")));
    show(main,
      h("h1", {}, t("adoption.title")),
      h("p", { class: "sub" }, `${t("flag")}: ${flagName(app.flag)} · ${t("adoption.partialNote", { today: formatDate(today) })} `, csv),
      h("div", { id: "adoption-csv-status", role: "status" }),
      filterForm(app, slugs, planWaves, name),
      h("div", { class: "charts" }, cards.activation.card, cards.mam.card, waves.length ? cards.wave.card : null, cards.uses.card),
      h("section", { class: "card" }, h("h2", {}, t("adoption.retention")), cohortTable(cohorts)),
    );
    draw(cards, data, labels, name);
    if (refocus) document.getElementById(refocus)?.focus();
    refocus = null;
  } catch (error) {
    show(main, h("h1", {}, t("adoption.title")), alertBox(plainError(error)));
  }
}
