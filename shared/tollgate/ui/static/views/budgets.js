// Budgets: progress coloured at thresholds, period end, action; create/edit/delete/reset.
import { api, groupsOf, listAll } from "../api.js";
import { button, clear, describeError, field, formatDate, h, messageBox, percent, section, select } from "../dom.js";
import { addDecimals, toNumber, usd } from "../money.js";
import { BUDGET_SCOPES } from "../lists.js";
import { renderChannels } from "./channels.js";

const SCOPES = BUDGET_SCOPES.map((s) => s.name); // the budget scope table (generated lists.js)
const NEEDS_VALUE = new Set(BUDGET_SCOPES.filter((s) => s.needs_value).map((s) => s.name));
const PERIODS = ["daily", "weekly", "monthly", "total"];
const ACTIONS = [["alert_only", "alert only"], ["block", "block"], ["downgrade", "downgrade"]];
const DEFAULT_THRESHOLDS = [0.5, 0.75, 0.9, 1.0];

export function level(ratio, thresholds) {
  const crossed = thresholds.filter((t) => ratio >= t);
  if (ratio >= 1) return "over";
  if (!crossed.length) return "ok";
  return Math.max(...crossed) >= 0.9 ? "high" : "warn";
}

function progress(budget, status) {
  const limit = toNumber(status.limit_usd ?? budget.limit_usd);
  const used = addDecimals([status.spent_usd ?? "0", status.reserved_usd ?? "0"]);
  const ratio = limit > 0 ? toNumber(used) / limit : 0;
  const thresholds = budget.thresholds || DEFAULT_THRESHOLDS;
  const bar = h("div", {
    class: `progress ${level(ratio, thresholds)}`,
    role: "progressbar",
    "aria-valuemin": 0,
    "aria-valuemax": 100,
    "aria-valuenow": Math.round(Math.min(ratio, 1) * 100),
    "aria-label": `${budget.name}: ${percent(ratio)} of the limit used`,
  });
  const fill = h("div", { class: "fill" });
  fill.style.width = `${Math.min(ratio, 1) * 100}%`;
  bar.append(fill);
  for (const t of thresholds) {
    const tick = h("span", { class: "tick", title: `threshold ${percent(t, 0)}` });
    tick.style.left = `${Math.min(t, 1) * 100}%`;
    bar.append(tick);
  }
  return { bar, ratio };
}

function budgetCard(budget, status, actions) {
  const { bar, ratio } = status ? progress(budget, status) : { bar: h("p", { class: "muted", text: "No status available." }), ratio: 0 };
  const crossed = (status && status.thresholds_crossed) || [];
  const scope = budget.scope === "workspace" ? "whole workspace" : `${budget.scope} = ${budget.scope_value}`;
  return h(
    "article",
    { class: "card budget", "aria-label": `Budget ${budget.name}`, dataset: { budgetId: budget.id } },
    h("div", { class: "budget-head" }, h("h3", { text: budget.name }), h("span", { class: "badge", text: String(budget.action).replace("_", " ") })),
    h("p", { class: "muted", text: `${budget.period} · ${scope} · ${budget.timezone || "UTC"}` }),
    bar,
    status
      ? h(
          "p",
          { class: "budget-numbers" },
          `Spent ${usd(status.spent_usd)} + reserved ${usd(status.reserved_usd)} of ${usd(status.limit_usd ?? budget.limit_usd)} (${percent(ratio)}); remaining ${usd(status.remaining_usd)}`,
        )
      : null,
    status ? h("p", { class: "muted", text: `Period ${formatDate(status.period_start)} → ${formatDate(status.period_end)} · thresholds crossed: ${crossed.length ? crossed.map((t) => percent(t, 0)).join(", ") : "none"}` }) : null,
    h("div", { class: "actions" }, actions),
  );
}

function budgetForm(channels, onSaved, existing) {
  const v = existing || {};
  const inputs = {
    name: h("input", { name: "name", value: v.name || "", autocomplete: "off" }),
    scope: select("scope", SCOPES, v.scope || "workspace"),
    scope_value: h("input", { name: "scope_value", value: v.scope_value || "", autocomplete: "off" }),
    period: select("period", PERIODS, v.period || "monthly"),
    timezone: h("input", { name: "timezone", value: v.timezone || "UTC", autocomplete: "off" }),
    limit_usd: h("input", { name: "limit_usd", value: v.limit_usd || "", inputmode: "decimal", autocomplete: "off" }),
    thresholds: h("input", { name: "thresholds", value: (v.thresholds || DEFAULT_THRESHOLDS).join(", "), autocomplete: "off" }),
    action: select("action", ACTIONS, v.action || "alert_only"),
    downgrade_model: h("input", { name: "downgrade_model", value: v.downgrade_model || "", autocomplete: "off" }),
  };
  const selected = new Set(v.channel_ids || []);
  const boxes = channels.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", value: c.id, checked: selected.has(c.id) }), ` ${c.type}: ${c.target}`));
  const message = messageBox();
  const form = h(
    "form",
    { class: "card", "aria-label": existing ? `Edit budget ${v.name}` : "Create a budget", novalidate: true },
    h("h2", { text: existing ? `Edit “${v.name}”` : "Create a budget" }),
    h(
      "div",
      { class: "form-grid" },
      field("Name", inputs.name),
      field("Limit (USD)", inputs.limit_usd, "for example 25.00"),
      field("Period", inputs.period, "calendar periods in the budget's timezone"),
      field("Timezone", inputs.timezone, "IANA name, e.g. Europe/Berlin"),
      field("Scope", inputs.scope),
      field("Scope value", inputs.scope_value, "key id, provider, model, workflow, agent or end-user id"),
      field("Action", inputs.action),
      field("Downgrade model", inputs.downgrade_model, "only for action = downgrade"),
      field("Thresholds", inputs.thresholds, "fractions of the limit, comma separated"),
    ),
    boxes.length ? h("fieldset", {}, h("legend", { text: "Alert channels" }), boxes) : null,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: existing ? "Save budget" : "Create budget" }), existing ? button("Cancel", () => onSaved(null)) : null),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: inputs.name.value.trim(), scope: inputs.scope.value, period: inputs.period.value, timezone: inputs.timezone.value.trim() || "UTC", limit_usd: inputs.limit_usd.value.trim(), action: inputs.action.value };
    if (NEEDS_VALUE.has(body.scope)) body.scope_value = inputs.scope_value.value.trim();
    if (inputs.downgrade_model.value.trim()) body.downgrade_model = inputs.downgrade_model.value.trim();
    const raw = inputs.thresholds.value.trim();
    if (raw) body.thresholds = raw.split(",").map((t) => Number(t.trim()));
    body.channel_ids = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    try {
      const saved = existing ? await api.put(`/v1/budgets/${encodeURIComponent(v.id)}`, body) : await api.post("/v1/budgets", body);
      onSaved(saved);
    } catch (error) {
      message.show(describeError(error), "error");
    }
  });
  return form;
}

async function statuses(budgets) {
  try {
    const all = groupsOf(await api.get("/v1/budgets/status"));
    return Object.fromEntries(all.map((s) => [s.budget_id ?? s.id, s]));
  } catch (error) {
    if (error.status === 401) throw error;
    const each = await Promise.all(budgets.map((b) => api.get(`/v1/budgets/${encodeURIComponent(b.id)}/status`).catch(() => null)));
    return Object.fromEntries(budgets.map((b, i) => [b.id, each[i]]));
  }
}

export async function render(root) {
  root.append(h("h1", { text: "Budgets & alerts" }));
  const message = messageBox();
  const formSlot = h("div");
  const listSlot = h("div", { class: "budget-list" });
  const channelSlot = h("div");
  root.append(message, listSlot, formSlot, channelSlot);
  let channels = [];
  try {
    channels = (await listAll("/v1/alert-channels")).rows;
  } catch (error) {
    if (error.status === 401) throw error;
  }
  const showCreate = () => clear(formSlot, budgetForm(channels, onSaved));
  const onSaved = async (saved) => {
    if (saved) message.show(`Budget “${saved.name}” saved.`);
    showCreate();
    await reload();
  };
  const actionsFor = (b) => [
    button("Edit", () => {
      clear(formSlot, budgetForm(channels, onSaved, b));
      formSlot.querySelector("input").focus();
    }, { "aria-label": `Edit budget ${b.name}` }),
    button("Reset", async () => {
      if (!window.confirm(`Reset the spend of “${b.name}” for the current period?`)) return;
      await act(() => api.post(`/v1/budgets/${encodeURIComponent(b.id)}/reset`), `Budget “${b.name}” reset.`);
    }, { "aria-label": `Reset budget ${b.name}` }),
    button("Delete", async () => {
      if (!window.confirm(`Delete the budget “${b.name}”?`)) return;
      await act(() => api.del(`/v1/budgets/${encodeURIComponent(b.id)}`), `Budget “${b.name}” deleted.`);
    }, { kind: "danger", "aria-label": `Delete budget ${b.name}` }),
  ];
  const act = async (call, done) => {
    try {
      await call();
      message.show(done);
      await reload();
    } catch (error) {
      message.show(describeError(error), "error");
    }
  };
  const reload = async () => {
    clear(listSlot);
    await section(listSlot, "Budgets", "GET /v1/budgets", async () => {
      const { rows } = await listAll("/v1/budgets");
      if (!rows.length) return h("p", { class: "muted empty", text: "No budgets yet. Create one above." });
      const byId = await statuses(rows);
      return h("div", { class: "cards" }, rows.map((b) => budgetCard(b, byId[b.id], actionsFor(b))));
    });
    formSlot.hidden = Boolean(listSlot.querySelector('[data-state="not-available"]'));
  };
  showCreate();
  await reload();
  await renderChannels(channelSlot, async () => {
    channels = (await listAll("/v1/alert-channels")).rows;
    showCreate();
  });
}
