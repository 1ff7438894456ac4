// Small DOM helpers. Text always goes through textContent: API data is never parsed as HTML.
let idCounter = 0;

export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-US");
}

export function percent(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function describeError(error) {
  const id = error.requestId ? ` (request id ${error.requestId})` : "";
  return `${error.message}${id}`;
}

export function notAvailablePanel(title, route) {
  return h(
    "div",
    { class: "panel unavailable", role: "note", dataset: { state: "not-available" } },
    h("strong", { text: `${title} is not available on this gateway.` }),
    h("p", { text: `The server does not offer ${route} yet (404 unknown_route). This panel fills in once it does.` }),
  );
}

export function errorPanel(title, error) {
  return h(
    "div",
    { class: "panel error", role: "alert", dataset: { state: "error" } },
    h("strong", { text: `${title} could not be loaded.` }),
    h("p", { text: describeError(error) }),
  );
}

// Render a section that loads on its own: a failure or a missing route only affects this section.
export async function section(container, title, route, loader) {
  const body = h("div", { class: "section-body", "aria-busy": "true" }, h("p", { class: "muted", text: "Loading…" }));
  const heading = h("h2", { text: title });
  container.append(h("section", { class: "card", "aria-label": title }, heading, body));
  try {
    const content = await loader();
    clear(body, content);
  } catch (error) {
    if (error && error.notAvailable) clear(body, notAvailablePanel(title, route));
    else if (error && error.status === 401) throw error;
    else clear(body, errorPanel(title, error));
  } finally {
    body.removeAttribute("aria-busy");
  }
}

export function table(columns, rows, { caption, empty = "Nothing yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted empty", text: empty });
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null, text: c.label })));
  const body = rows.map((row) =>
    h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.render(row)))),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, caption ? h("caption", { class: "sr-only", text: caption }) : null, h("thead", {}, head), h("tbody", {}, body)),
  );
}

export function field(label, control, hint) {
  const id = control.id || uid("field");
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint", text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id, text: label }), control, hintEl);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map((o) => {
      const [optValue, optLabel] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: optValue, selected: optValue === value, text: optLabel });
    }),
  );
}

export function messageBox() {
  const box = h("div", { class: "message", role: "status", "aria-live": "polite" });
  box.show = (text, kind = "ok") => {
    box.className = `message ${kind}`;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
  };
  box.reset = () => {
    box.className = "message";
    box.textContent = "";
  };
  return box;
}

export function button(label, onclick, { kind = "secondary", ...attrs } = {}) {
  return h("button", { type: "button", class: kind, onclick, ...attrs, text: label });
}
