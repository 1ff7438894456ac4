// Alert channels: list, add, delete, and a test button that sends a test alert.
import { api, listAll } from "../api.js";
import { button, clear, describeError, field, formatDate, h, messageBox, section, select, table } from "../dom.js";

const TYPES = ["webhook", "slack", "discord", "email"];

export async function renderChannels(root, onChange) {
  const message = messageBox();
  const listSlot = h("div");
  const type = select("type", TYPES, "webhook");
  const target = h("input", { name: "target", autocomplete: "off", placeholder: "https://… or name@example.com" });
  const secret = h("input", { name: "secret", type: "password", autocomplete: "off" });
  const form = h(
    "form",
    { class: "card inline-form", "aria-label": "Add an alert channel", novalidate: true },
    h("h2", { text: "Add an alert channel" }),
    h("div", { class: "row" }, field("Type", type), field("Target", target), field("Signing secret (optional)", secret), h("button", { type: "submit", class: "primary", text: "Add channel" })),
  );
  const reload = async () => {
    clear(listSlot);
    await section(listSlot, "Alert channels", "GET /v1/alert-channels", async () => {
      const { rows } = await listAll("/v1/alert-channels");
      return table(
        [
          { label: "Type", render: (c) => c.type },
          { label: "Target", render: (c) => c.target },
          { label: "Created", render: (c) => formatDate(c.created_at) },
          {
            label: "Actions",
            render: (c) =>
              h(
                "div",
                { class: "actions" },
                button("Send test", async () => {
                  message.show(`Sending a test alert to ${c.target}…`);
                  try {
                    const result = await api.post(`/v1/alert-channels/${encodeURIComponent(c.id)}/test`);
                    if (result && result.ok === false) message.show(`Test failed: ${(result.error && result.error.message) || "delivery failed"}`, "error");
                    else message.show(`Test alert sent to ${c.target}.`);
                  } catch (error) {
                    message.show(`Test failed: ${describeError(error)}`, "error");
                  }
                }, { "aria-label": `Send a test alert to ${c.target}` }),
                button("Delete", async () => {
                  if (!window.confirm(`Delete the channel ${c.target}?`)) return;
                  try {
                    await api.del(`/v1/alert-channels/${encodeURIComponent(c.id)}`);
                    message.show("Channel deleted.");
                    await reload();
                    await onChange();
                  } catch (error) {
                    message.show(describeError(error), "error");
                  }
                }, { kind: "danger", "aria-label": `Delete channel ${c.target}` }),
              ),
          },
        ],
        rows,
        { caption: "Alert channels", empty: "No alert channels yet." },
      );
    });
    form.hidden = Boolean(listSlot.querySelector('[data-state="not-available"]'));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { type: type.value, target: target.value.trim() };
    if (secret.value) body.secret = secret.value;
    try {
      await api.post("/v1/alert-channels", body);
      target.value = "";
      secret.value = "";
      message.show("Channel added.");
      await reload();
      await onChange();
    } catch (error) {
      message.show(describeError(error), "error");
    }
  });
  root.append(form, message, listSlot);
  await reload();
}
