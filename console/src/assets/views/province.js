// Province view: every tenant's rollout state for the flag and its adoption at a glance.
import { formatDateTime, formatNumber, formatPercent, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts, sparkline } from "../charts.js";
import { adoptionByTenant, readRollout, tenantInfo, visibleTenants, waveLabel } from "../data.js";
import { flagName } from "../words.js";

function waveCell(row) {
  if (row === undefined || row.wave === null) return h("td", {}, "—");
  const cls = row.wave === 0 ? "badge pilot" : `badge wave`;
  return h("td", {}, h("span", { class: cls }, waveLabel(t, row.wave)));
}

function tenantRow(slug, info, state, points) {
  const last = points.at(-1);
  const rates = points.map((p) => p.activationRate ?? 0);
  const canvas = h("canvas", { width: "120", height: "32", role: "img",
    "aria-label": `${t("province.trend")}: ${rates.map((r) => formatPercent(r)).join(", ")}` });
  const tr = h("tr", { dataset: { tenant: slug } },
    h("th", { scope: "row" }, info?.name ?? slug, h("span", { class: "slug" }, slug)),
    waveCell(state),
    h("td", { class: `state ${state?.state ?? ""}` }, state ? t(`state.${state.state}`) : "—"),
    h("td", { class: "num" }, state ? `${state.percentage}%` : "—"),
    h("td", {}, state?.since ? formatDateTime(state.since) : "—"),
    h("td", { class: "num activation" }, formatPercent(last?.activationRate)),
    h("td", { class: "num mam" }, last ? formatNumber(last.activeMembers) : "—"),
    h("td", {}, canvas, h("span", { class: "scale" }, t("province.scale"))),
  );
  return { tr, draw: () => sparkline(canvas, rates) };
}

export async function provinceView(main, app) {
  destroyCharts();
  try {
    const { rollout, error } = await readRollout(app.flag);
    const slugs = await visibleTenants(app, rollout);
    const [info, adoption] = await Promise.all([tenantInfo(slugs), adoptionByTenant(slugs)]);
    const states = Object.fromEntries((rollout?.tenants ?? []).map((s) => [s.tenant, s]));
    const rows = slugs.map((s) => tenantRow(s, info[s], states[s], adoption[s] ?? []));
    const head = ["province.tenant", "province.wave", "province.state", "province.percentage",
      "province.since", "province.activation", "province.mam", "province.trend"];
    const own = app.access.readsProvince ? null : app.access.tenant;
    show(main,
      h("h1", {}, own ? t("district.title", { name: info[own]?.name ?? own }) : t("province.title")),
      h("p", { class: "sub" }, `${t("flag")}: ${flagName(app.flag)}`,
        rollout ? ` — ${t("rollout.status", { status: t(`status.${rollout.status}`), wave: rollout.wave, step: rollout.step + 1 })}` : ""),
      error ? alertBox(`${t("province.noRollout")} ${plainError(error)}`, "info") : null,
      h("div", { class: "table-wrap" },
        h("table", { id: "province-table" },
          h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
          h("tbody", {}, rows.map((r) => r.tr)))),
    );
    rows.forEach((r) => r.draw());
  } catch (error) {
    show(main, h("h1", {}, t("province.title")), alertBox(plainError(error)));
  }
}
