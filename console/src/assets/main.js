// The console's shell: sign-in, role refusal, language switch, and the hash router.
import { ApiError, forget, hasRefresh, keepFresh, refresh, signIn, token, whenSessionEnds } from "./api.js";
import { lang, setLang, t, translatePage } from "./i18n.js";
import { alertBox, h, show } from "./ui.js";
import { startLive, stopLive } from "./live.js";
import { finishLogin, oidcConfig, startLogin } from "./oidc.js";
import { provinceView } from "./views/province.js";
import { rolloutView } from "./views/rollout.js";
import { adoptionView } from "./views/adoption.js";
import { auditView } from "./views/audit.js";
import { noticesView } from "./views/notices.js";

const VIEWS = { province: provinceView, rollout: rolloutView, adoption: adoptionView, notices: noticesView, audit: auditView };
const main = document.getElementById("main");
const app = { access: null, flag: "handbook", render, oidc: null };

function signInPage(message) {
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "token-help",
  });
  const form = h(
    "form", { id: "signin", class: "card narrow", onsubmit: onSignIn },
    h("h1", {}, t("signin.title")),
    h("p", { id: "token-help", class: "help" }, t("signin.help")),
    h("label", { for: "token" }, t("signin.token")),
    input,
    message ? alertBox(message) : null,
    h("button", { type: "submit", class: "primary" }, t("signin.submit")),
    app.oidc ? h("button", { type: "button", id: "oidc-login", onclick: () => startLogin(app.oidc) }, t("signin.oidc")) : null,
  );
  show(main, form);
  input.focus();
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
    if (grant) keepFresh(grant);
  } catch (error) {
    if (error instanceof ApiError && error.code === "CONSOLE_FORBIDDEN") return refusedPage();
    return signInPage(error.code === "NETWORK" ? t("error.network") : t("error.token"));
  }
  location.hash = location.hash && location.hash !== "#/" ? location.hash : "#/province";
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
function sessionEnded() {
  stopLive();
  app.access = null;
  chrome();
  signInPage(t("error.sessionEnded"));
}

function chrome() {
  const signedIn = app.access !== null;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  const roles = signedIn ? app.access.roles.map((r) => t(`role.${r}`)).join(", ") : "";
  const where = signedIn && app.access.tenant ? ` · ${app.access.tenant}` : "";
  document.getElementById("who").textContent = signedIn ? `${app.access.subject} — ${roles}${where}` : "";
  const name = currentView();
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function currentView() {
  const name = location.hash.replace(/^#\//, "").split("?")[0];
  return name in VIEWS ? name : "province";
}

async function render() {
  translatePage();
  document.title = `PilotGraph — ${t("brand")}`;
  chrome();
  if (app.access === null) return signInPage();
  startLive(app);
  show(main, h("p", { class: "loading" }, t("loading")));
  await VIEWS[currentView()](main, app);
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
  window.addEventListener("hashchange", render);
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
    } catch {
      if (!token()) return;  // the refresh was refused: sessionEnded shows the sign-in page
      forget();
    }
  }
  render();
}

boot();
