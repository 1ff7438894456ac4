// Provider credentials: masked hints only; add (tested before it is saved), test, rotate,
// disable/enable, set primary, delete.
import { api, listAll } from "../api.js";
import { button, clear, describeError, field, formatDate, h, messageBox, section, table } from "../dom.js";
import { PROVIDERS } from "../lists.js";

// "{...} for Yandex AI Studio": the options each provider requires (from the provider registry)
const OPTIONS_HINT = PROVIDERS.filter((p) => p.options_hint).map((p) => `${p.options_hint} for ${p.label}`).join("; ");

function describeTest(result) {
  if (result && result.ok) return { text: `Connection OK${result.latency_ms !== undefined ? ` (${result.latency_ms} ms)` : ""}.`, kind: "ok" };
  const error = (result && result.error) || {};
  return { text: `Test failed: ${error.message || error.type || "the provider rejected the call"}`, kind: "error" };
}

function credentialForm(onSaved) {
  const inputs = {
    name: h("input", { name: "name", autocomplete: "off" }),
    provider: h("input", { name: "provider", list: "provider-names", autocomplete: "off", value: "openai" }),
    api_key: h("input", { name: "api_key", type: "password", autocomplete: "off", spellcheck: "false" }),
    base_url: h("input", { name: "base_url", autocomplete: "off", placeholder: "provider default" }),
    default_model: h("input", { name: "default_model", autocomplete: "off" }),
    priority: h("input", { name: "priority", type: "number", value: "100", min: "0", step: "1" }),
    options: h("input", { name: "options", autocomplete: "off", placeholder: OPTIONS_HINT }),
  };
  const primary = h("input", { type: "checkbox", name: "is_primary" });
  const message = messageBox();
  const bodyOf = () => {
    const body = { provider: inputs.provider.value.trim(), name: inputs.name.value.trim(), api_key: inputs.api_key.value, is_primary: primary.checked };
    for (const key of ["base_url", "default_model"]) if (inputs[key].value.trim()) body[key] = inputs[key].value.trim();
    if (inputs.priority.value !== "") body.priority = Number(inputs.priority.value);
    if (inputs.options.value.trim()) body.options = JSON.parse(inputs.options.value);
    return body;
  };
  const test = async () => {
    message.show("Testing the key with a cheap call…");
    const result = describeTest(await api.post("/v1/credentials/test", bodyOf()));
    message.show(result.text, result.kind);
    return result.kind === "ok";
  };
  const guarded = (fn) => async () => {
    try {
      await fn();
    } catch (error) {
      message.show(error instanceof SyntaxError ? "Options must be a JSON object." : describeError(error), "error");
    }
  };
  const form = h(
    "form",
    { class: "card", "aria-label": "Add a provider credential", novalidate: true },
    h("h2", { text: "Add a provider credential" }),
    h("datalist", { id: "provider-names" }, PROVIDERS.map((p) => h("option", { value: p.name, label: p.label }))),
    h(
      "div",
      { class: "form-grid" },
      field("Name", inputs.name, "unique in the workspace"),
      field("Provider", inputs.provider),
      field("API key", inputs.api_key, "stored encrypted; only the last 4 characters are shown again"),
      field("Base URL", inputs.base_url, "as the provider's SDK spells it"),
      field("Default model", inputs.default_model),
      field("Priority", inputs.priority, "lower is tried first"),
      field("Options (JSON)", inputs.options),
    ),
    h("label", { class: "check" }, primary, " Primary credential of the workspace"),
    h("div", { class: "actions" }, button("Test key", guarded(test), { id: "test-credential" }), h("button", { type: "submit", class: "primary", text: "Test and save" })),
    message,
  );
  form.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      guarded(async () => {
        if (!(await test())) return;
        const saved = await api.post("/v1/credentials", bodyOf());
        inputs.api_key.value = "";
        message.show(`Saved “${saved.name}”; the key is shown only as ${saved.key_hint}.`);
        await onSaved(saved);
      })();
    },
  );
  return form;
}

function rotateForm(credential, message, reload) {
  const key = h("input", { type: "password", autocomplete: "off", name: "api_key" });
  const form = h("form", { class: "inline-rotate", "aria-label": `Rotate the key of ${credential.name}` }, field("New API key", key), h("button", { type: "submit", class: "primary", text: "Rotate" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const rotated = await api.post(`/v1/credentials/${encodeURIComponent(credential.id)}/rotate`, { api_key: key.value });
      key.value = "";
      message.show(`Key of “${credential.name}” rotated; now ${rotated.key_hint || "replaced"}.`);
      await reload();
    } catch (error) {
      message.show(describeError(error), "error");
    }
  });
  return form;
}

function actions(c, message, reload) {
  const path = `/v1/credentials/${encodeURIComponent(c.id)}`;
  const slot = h("div", { class: "rotate-slot" });
  const run = (call, done) => async () => {
    try {
      await call();
      message.show(done);
      await reload();
    } catch (error) {
      message.show(describeError(error), "error");
    }
  };
  return h(
    "div",
    { class: "actions" },
    button("Test", async () => {
      message.show(`Testing “${c.name}”…`);
      try {
        const result = describeTest(await api.post(`${path}/test`));
        message.show(`${c.name}: ${result.text}`, result.kind);
      } catch (error) {
        message.show(describeError(error), "error");
      }
    }, { "aria-label": `Test credential ${c.name}` }),
    button("Rotate", () => clear(slot, rotateForm(c, message, reload)), { "aria-label": `Rotate the key of ${c.name}` }),
    button(c.is_active ? "Disable" : "Enable", run(() => api.patch(path, { is_active: !c.is_active }), `“${c.name}” ${c.is_active ? "disabled" : "enabled"}.`), { "aria-label": `${c.is_active ? "Disable" : "Enable"} credential ${c.name}` }),
    c.is_primary ? null : button("Make primary", run(() => api.patch(path, { is_primary: true }), `“${c.name}” is now the primary credential.`), { "aria-label": `Make ${c.name} primary` }),
    button("Delete", async () => {
      if (!window.confirm(`Delete the credential “${c.name}”? Its key is destroyed.`)) return;
      await run(() => api.del(path), `“${c.name}” deleted.`)();
    }, { kind: "danger", "aria-label": `Delete credential ${c.name}` }),
    slot,
  );
}

export async function render(root) {
  root.append(h("h1", { text: "Provider credentials" }), h("p", { class: "muted", text: "The workspace's own provider keys. The gateway never shows a key again, only its hint." }));
  const message = messageBox();
  const listSlot = h("div");
  const reload = async () => {
    clear(listSlot);
    await section(listSlot, "Credentials", "GET /v1/credentials", async () => {
      const { rows } = await listAll("/v1/credentials");
      return table(
        [
          { label: "Name", render: (c) => c.name },
          { label: "Provider", render: (c) => c.provider },
          { label: "Key", render: (c) => h("code", { class: "key-hint", text: c.has_key ? c.key_hint || "set" : "missing" }) },
          { label: "Base URL", render: (c) => c.base_url || "default" },
          { label: "Priority", numeric: true, render: (c) => String(c.priority ?? "") },
          { label: "Status", render: (c) => h("span", { class: c.is_active ? "badge good" : "badge bad", text: `${c.is_active ? "Active" : "Disabled"}${c.is_primary ? " · primary" : ""}` }) },
          { label: "Rotated", render: (c) => formatDate(c.rotated_at) },
          { label: "Actions", render: (c) => actions(c, message, reload) },
        ],
        rows,
        { caption: "Provider credentials", empty: "No credentials yet." },
      );
    });
    form.hidden = Boolean(listSlot.querySelector('[data-state="not-available"]'));
  };
  const form = credentialForm(reload);
  root.append(form, message, listSlot);
  await reload();
}
