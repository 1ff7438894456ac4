// Routing rules: list in evaluation order with hit counts (last 30 days), create / edit / delete.
import { api, groupsOf, listAll } from "../api.js";
import { button, clear, describeError, field, h, messageBox, section, select, table } from "../dom.js";

const ACTIONS = [["route", "route (targets in order)"], ["cheapest", "cheapest target first"], ["block", "block"]];
const DAY_MS = 24 * 60 * 60 * 1000;

export function describeMatch(match) {
  const parts = [];
  if (match.model) parts.push(`model ${match.model}`);
  if (match.workflow) parts.push(`workflow ${match.workflow}`);
  if (match.agent) parts.push(`agent ${match.agent}`);
  if (match.tags && match.tags.length) parts.push(`tags ${match.tags.join(", ")}`);
  if (match.key_id) parts.push(`key ${match.key_id}`);
  return parts.length ? parts.join(" · ") : "every request";
}

export function describeAction(action) {
  if (action.type === "block") return `block: ${action.message}`;
  return `${action.type}: ${(action.targets || []).join(" → ")}`;
}

function list(value) {
  return value.split(",").map((t) => t.trim()).filter(Boolean);
}

// The request body the form describes (the API validates it and answers with the field path).
export function ruleBody(values) {
  const match = {};
  for (const name of ["model", "workflow", "agent", "key_id"]) if (values[name]) match[name] = values[name];
  const tags = list(values.tags || "");
  if (tags.length) match.tags = tags;
  const action = values.action === "block" ? { type: "block", message: values.message || "Blocked by a routing rule" } : { type: values.action, targets: list(values.targets || "") };
  return { name: values.name, priority: Number(values.priority), is_active: Boolean(values.is_active), match, action };
}

function ruleForm(onSaved, existing) {
  const v = existing || { priority: 100, is_active: true, match: {}, action: { type: "route", targets: [] } };
  const text = (name, value, placeholder) => h("input", { name, value: value || "", autocomplete: "off", placeholder: placeholder || null });
  const inputs = {
    name: text("name", v.name),
    priority: h("input", { name: "priority", value: String(v.priority), inputmode: "numeric", autocomplete: "off" }),
    is_active: h("input", { type: "checkbox", name: "is_active", checked: v.is_active }),
    model: text("model", v.match.model, "openai/gpt-4o*"),
    workflow: text("workflow", v.match.workflow),
    agent: text("agent", v.match.agent),
    tags: text("tags", (v.match.tags || []).join(", ")),
    key_id: text("key_id", v.match.key_id),
    action: select("action", ACTIONS, v.action.type),
    targets: text("targets", (v.action.targets || []).join(", "), "openai/gpt-4o-mini, anthropic/claude-haiku-4-5"),
    message: text("message", v.action.message),
  };
  const message = messageBox();
  const form = h(
    "form",
    { class: "card", "aria-label": existing ? `Edit rule ${v.name}` : "Create a routing rule", novalidate: true },
    h("h2", { text: existing ? `Edit “${v.name}”` : "Create a routing rule" }),
    h(
      "div",
      { class: "form-grid" },
      field("Rule name", inputs.name),
      field("Priority", inputs.priority, "lower is evaluated first; the first matching active rule decides"),
      field("Active", inputs.is_active),
      field("Match model", inputs.model, "glob on the requested model; empty matches any"),
      field("Match workflow", inputs.workflow),
      field("Match agent", inputs.agent),
      field("Match tags", inputs.tags, "comma separated; all must be present"),
      field("Match key id", inputs.key_id),
      field("Action", inputs.action),
      field("Targets", inputs.targets, "provider/model, comma separated (route and cheapest)"),
      field("Block message", inputs.message, "shown to callers (block)"),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: existing ? "Save rule" : "Create rule" }), existing ? button("Cancel", () => onSaved(null)) : null),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.type === "checkbox" ? el.checked : el.value.trim()]));
    try {
      const body = ruleBody(values);
      const saved = existing ? await api.put(`/v1/routing-rules/${encodeURIComponent(v.id)}`, body) : await api.post("/v1/routing-rules", body);
      onSaved(saved);
    } catch (error) {
      message.show(describeError(error), "error");
    }
  });
  return form;
}

async function hitCounts() {
  const to = new Date();
  const from = new Date(to.getTime() - 30 * DAY_MS);
  const summary = await api.get("/v1/usage/summary", { group_by: "routing_rule", from: from.toISOString(), to: to.toISOString() });
  return Object.fromEntries(groupsOf(summary).filter((g) => g.routing_rule_id).map((g) => [g.routing_rule_id, g.requests]));
}

export async function render(root) {
  const message = messageBox();
  const formSlot = h("div");
  const listSlot = h("div");
  root.append(h("h1", { text: "Routing rules" }), message, formSlot, listSlot);
  const showForm = (existing) => {
    clear(formSlot, ruleForm(async (saved) => {
      if (saved) message.show(existing ? `Rule “${saved.name}” saved.` : `Rule “${saved.name}” created.`);
      showForm(null);
      await reload();
    }, existing));
  };
  const reload = async () => {
    clear(listSlot);
    await section(listSlot, "Rules", "GET /v1/routing-rules", async () => {
      const { rows } = await listAll("/v1/routing-rules");
      let hits = {};
      try {
        hits = await hitCounts();
      } catch (error) {
        if (error.status === 401) throw error;
      }
      return table(
        [
          { label: "Priority", numeric: true, render: (r) => String(r.priority) },
          { label: "Name", render: (r) => r.name },
          { label: "Active", render: (r) => (r.is_active ? "yes" : "no") },
          { label: "Match", render: (r) => describeMatch(r.match) },
          { label: "Action", render: (r) => describeAction(r.action) },
          { label: "Hits (30 days)", numeric: true, render: (r) => String(hits[r.id] || 0) },
          {
            label: "Actions",
            render: (r) =>
              h(
                "div",
                { class: "actions" },
                button("Edit", () => showForm(r), { "aria-label": `Edit rule ${r.name}` }),
                button("Delete", async () => {
                  if (!window.confirm(`Delete the rule ${r.name}?`)) return;
                  try {
                    await api.del(`/v1/routing-rules/${encodeURIComponent(r.id)}`);
                    message.show(`Rule “${r.name}” deleted.`);
                    await reload();
                  } catch (error) {
                    message.show(describeError(error), "error");
                  }
                }, { kind: "danger", "aria-label": `Delete rule ${r.name}` }),
              ),
          },
        ],
        rows,
        { caption: "Routing rules", empty: "No routing rules yet: every request keeps its requested model." },
      );
    });
    formSlot.hidden = Boolean(listSlot.querySelector('[data-state="not-available"]'));
  };
  showForm(null);
  await reload();
}
