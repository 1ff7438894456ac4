// Entry point: configuration, sign-in, and a hash router over the views.
import { ApiError, api, loadConfig, session, setUnauthorizedHandler, request } from "./api.js";
import { clear, describeError, field, h } from "./dom.js";

const VIEWS = {
  overview: () => import("./views/overview.js"),
  budgets: () => import("./views/budgets.js"),
  credentials: () => import("./views/credentials.js"),
  keys: () => import("./views/keys.js"),
  usage: () => import("./views/usage.js"),
  pricing: () => import("./views/pricing.js"),
  routing: () => import("./views/routing.js"),
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOutButton = document.getElementById("sign-out");
const workspaceInfo = document.getElementById("workspace-info");
let renderToken = 0;

function signInMessage(error) {
  if (error.status === 401 && error.code === "revoked_api_key") return "This key has been revoked. Ask an admin for a new key.";
  if (error.status === 401 && error.code === "missing_api_key") return "Paste a gateway admin key to sign in.";
  if (error.status === 401) return "This key is not valid. Check that you pasted the whole key (tg_…).";
  if (error.status === 403) return "This key cannot manage a workspace. The dashboard needs a workspace admin key (not a member or root key).";
  return `Could not sign in: ${describeError(error)}`;
}

function showSignIn(message) {
  session.clear();
  nav.hidden = true;
  signOutButton.hidden = true;
  workspaceInfo.textContent = "";
  const input = h("input", {
    type: "password",
    name: "key",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "tg_…",
  });
  const alert = h("div", { class: message ? "message error" : "message", role: "alert", id: "sign-in-error", text: message || "" });
  input.setAttribute("aria-describedby", "sign-in-error");
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title", novalidate: true },
    h("h1", { id: "sign-in-title", text: "Sign in to Tollgate" }),
    h("p", { text: "Paste a gateway admin key. It is kept only in this browser tab (sessionStorage) and sent only to the gateway API." }),
    field("Gateway admin key", input),
    alert,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      alert.className = "message error";
      alert.textContent = "Paste a gateway admin key to sign in.";
      input.focus();
      return;
    }
    submit.disabled = true;
    alert.className = "message";
    alert.textContent = "Checking the key…";
    try {
      await request("GET", "/v1/keys", { query: { limit: 1 }, key });
      session.set(key);
      input.value = "";
      describeWorkspace();
      if (!location.hash || location.hash === "#/") location.hash = "#/overview";
      else route();
    } catch (error) {
      alert.className = "message error";
      alert.textContent = error instanceof ApiError ? signInMessage(error) : String(error);
      input.focus();
    } finally {
      submit.disabled = false;
    }
  });
  clear(main, form);
  input.focus();
}

// The header names the workspace (GET /v1/workspace, admin keys); other keys show nothing rather than an id.
async function describeWorkspace() {
  try {
    const workspace = await api.get("/v1/workspace");
    workspaceInfo.textContent = workspace && workspace.name ? workspace.name : "";
    workspaceInfo.title = workspace && workspace.id ? `Workspace ${workspace.id}` : "";
  } catch {
    workspaceInfo.textContent = "";
    workspaceInfo.title = "";
  }
}

async function route() {
  if (!session.get()) {
    showSignIn();
    return;
  }
  const name = (location.hash.replace(/^#\/?/, "").split("?")[0] || "overview").toLowerCase();
  const loader = VIEWS[name];
  if (!loader) {
    location.hash = "#/overview";
    return;
  }
  nav.hidden = false;
  signOutButton.hidden = false;
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const token = ++renderToken;
  const container = h("div", { class: "view", dataset: { view: name } });
  clear(main, container);
  try {
    const view = await loader();
    if (token !== renderToken) return;
    await view.render(container);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    container.append(h("div", { class: "panel error", role: "alert", text: `This page failed: ${describeError(error)}` }));
  }
}

setUnauthorizedHandler((error) => {
  const revoked = error.code === "revoked_api_key";
  showSignIn(revoked ? "Your key has been revoked; sign in with another admin key." : "Your session key is no longer accepted; sign in again.");
});

signOutButton.addEventListener("click", () => {
  showSignIn("Signed out.");
  main.querySelector(".message").className = "message ok";
});

window.addEventListener("hashchange", () => {
  route();
  main.focus({ preventScroll: true });
});

await loadConfig();
if (session.get()) describeWorkspace();
route();
