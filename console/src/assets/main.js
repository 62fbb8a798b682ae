// The console's shell: sign-in, role refusal, language switch, and the hash router.
import { ApiError, displayName, forget, hasRefresh, keepFresh, refresh, signIn, token, whenSessionEnds } from "./api.js";
import { lang, setLang, setZone, t, translatePage } from "./i18n.js";
import { alertBox, h, show } from "./ui.js";
import { startLive, stopLive } from "./live.js";
import { finishLogin, oidcConfig, startLogin } from "./oidc.js";
import { provinceView } from "./views/province.js";
import { districtView } from "./views/district.js";
import { rolloutView } from "./views/rollout.js";
import { adoptionView } from "./views/adoption.js";
import { auditView } from "./views/audit.js";
import { noticesView } from "./views/notices.js";
import { personName } from "./words.js";

// Every view and who sees it: the menu lists only the views the signed-in role may use (a view
// opened by its address still answers, with the API's refusal); the browser tests walk this list
// through the menu, per role.
const PROVINCE_READERS = (access) => access.readsProvince;
const RAMP_SETTERS = (access) => access.adjustsTenantRamp;
const EVERYONE = () => true;
const VIEWS = {
  province: { render: provinceView, allowed: PROVINCE_READERS },
  district: { render: districtView, allowed: RAMP_SETTERS },
  rollout: { render: rolloutView, allowed: PROVINCE_READERS },
  adoption: { render: adoptionView, allowed: EVERYONE },
  notices: { render: noticesView, allowed: PROVINCE_READERS },
  audit: { render: auditView, allowed: PROVINCE_READERS },
};
const main = document.getElementById("main");
const app = { access: null, flag: "handbook", render, oidc: null };

function tokenForm() {
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "token-help",
  });
  const form = h(
    "form", { id: "token-form", onsubmit: onSignIn },
    h("p", { id: "token-help", class: "help" }, t("signin.help")),
    h("label", { for: "token" }, t("signin.token")),
    input,
    h("button", { type: "submit", class: app.oidc ? null : "primary" }, t("signin.submit")),
  );
  return { form, input };
}

/** Sign-in: the organisation account first; pasting a token is for developers (open when there is no OIDC). */
function signInPage(message) {
  const { form, input } = tokenForm();
  const oidc = app.oidc
    ? h("button", { type: "button", id: "oidc-login", class: "primary", onclick: () => startLogin(app.oidc) }, t("signin.oidc"))
    : null;
  const developers = h("details", { id: "developers", open: app.oidc ? null : true },
    h("summary", {}, t("signin.developers")), form);
  show(main, h("section", { id: "signin", class: "card narrow" }, h("h1", {}, t("signin.title")),
    message ? alertBox(message) : null, oidc, developers));
  (oidc ?? input).focus();
}

function refusedPage() {
  show(main, 
    h("section", { id: "refused", class: "card narrow", role: "alert" },
      h("h1", {}, t("refused.title")),
      h("p", {}, t("refused.body")),
      h("button", { type: "button", class: "primary", onclick: () => signInPage() }, t("refused.again")),
    ),
  );
}

async function onSignIn(event) {
  event.preventDefault();
  await enter(new FormData(event.target).get("token").trim());
}

async function enter(candidate, grant = null) {
  try {
    app.access = await signIn(candidate);
    setZone(app.access.timeZone);
    if (grant) keepFresh(grant);
  } catch (error) {
    if (error instanceof ApiError && error.code === "CONSOLE_FORBIDDEN") return refusedPage();
    return signInPage(error.code === "NETWORK" ? t("error.network") : t("error.token"));
  }
  location.hash = location.hash && location.hash !== "#/" ? location.hash : `#/${home()}`;
  render();
}

function signOut() {
  stopLive();
  forget();
  app.access = null;
  location.hash = "";
  render();
}

/** The access token expired and its refresh was refused: back to sign-in, saying why. */
function sessionEnded(error) {
  stopLive();
  app.access = null;
  chrome();
  signInPage(error?.code === "EXPIRED" ? t("signin.expired") : t("error.sessionEnded"));
}

function chrome() {
  const signedIn = app.access !== null;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  const roles = signedIn ? app.access.roles.map((r) => t(`role.${r}`)).join(", ") : "";
  const where = signedIn && app.access.tenant ? ` · ${app.access.tenant}` : "";
  const who = document.getElementById("who");
  // the person's name (the token's, else their member record's), the subject only on hover
  const name = signedIn ? app.access.name ?? displayName(token(), null) : null;
  who.textContent = signedIn ? `${personName(name, null, app.access.subject)} — ${roles}${where}` : "";
  who.title = signedIn ? app.access.subject : "";
  const view = currentView();
  for (const link of document.querySelectorAll("#nav a")) {
    link.hidden = signedIn && !VIEWS[link.dataset.view].allowed(app.access);
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** The first view: the province for those who read it, else a tenant admin's own district. */
function home() {
  return app.access && !app.access.readsProvince && app.access.adjustsTenantRamp ? "district" : "province";
}

function currentView() {
  const name = location.hash.replace(/^#\//, "").split("?")[0];
  return name in VIEWS ? name : home();
}

async function render() {
  translatePage();
  document.title = `PilotGraph — ${t("brand")}`;
  chrome();
  if (app.access === null) return signInPage();
  startLive(app);
  const name = currentView();
  delete main.dataset.ready;
  show(main, h("p", { class: "loading" }, t("loading")));
  await VIEWS[name].render(main, app);
  main.dataset.ready = name;  // the view has drawn what it read (the browser tests wait for this)
}

async function boot() {
  setLang(lang());
  const select = document.getElementById("lang");
  select.value = lang();
  let booted = false;
  select.addEventListener("change", () => {
    setLang(select.value);
    // before the first page is shown, only translate: a render now would be replaced by it,
    // dropping a token typed in between
    if (booted) render();
    else translatePage();
  });
  document.getElementById("signout").addEventListener("click", signOut);
  // only "#/view" is a route: the skip link's "#main" moves focus and leaves the view alone
  window.addEventListener("hashchange", () => { if (location.hash.startsWith("#/") || !location.hash) render(); });
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  app.oidc = await oidcConfig();
  let returned = null;
  try {
    returned = await finishLogin();
  } catch {
    booted = true;
    return signInPage(t("error.token"));
  }
  booted = true;
  whenSessionEnds(sessionEnded);
  if (returned) return enter(returned.token, returned);
  if (token()) {
    try {
      // a reload of an OIDC session renews its token first (refused: back to sign-in, said why)
      app.access = await signIn(hasRefresh() ? await refresh() : token());
      setZone(app.access.timeZone);
    } catch {
      if (!token()) return;  // the refresh was refused: sessionEnded shows the sign-in page
      forget();
    }
  }
  render();
}

boot();
