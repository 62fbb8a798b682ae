// Small DOM helpers: element builder, messages in plain words, the confirmation dialog.
import { t } from "./i18n.js";
import { errorText } from "./words.js";

/** h("p", {class: "x"}, "text", child) → element; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An API error in plain words, in the chosen language where the console knows the case. */
export function plainError(error) {
  if (error.code === "NETWORK") return t("error.network");
  if (error.code === "UNAUTHENTICATED") return t("error.token");
  if (error.code === "FORBIDDEN" || error.code === "FORBIDDEN_TENANT") return t("error.forbidden");
  if (error.code === "UNAVAILABLE") return t("error.unavailable", { detail: error.message });
  if (error.code === "INVALID_INPUT") return `${errorText(error.code, error.message)} (${error.message})`;
  return errorText(error.code, error.message);
}

export function alertBox(text, kind = "error") {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/**
 * Ask before acting: a modal dialog that says what changes; resolves with the reason typed
 * (or "" when none is asked for), or null when cancelled.
 */
export function confirmAction({ title, body, note, reasonLabel, reasonRequired }) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  const extra = document.getElementById("confirm-extra");
  extra.replaceChildren();
  if (note) extra.append(h("p", { class: "note" }, note));
  let input = null;
  if (reasonLabel) {
    input = h("textarea", { id: "confirm-reason", rows: "2", required: reasonRequired || null });
    extra.append(h("label", { for: "confirm-reason" }, reasonLabel), input);
  }
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok" ? (input?.value.trim() ?? "") : null),
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    (input ?? document.getElementById("confirm-ok")).focus();
  });
}

/** Replace `parent`'s children, skipping null/false and flattening arrays. */
export function show(parent, ...children) {
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
