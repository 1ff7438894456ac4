// Gateway keys: list, create (secret shown once, with a copy button), revoke.
import { api, listAll, session } from "../api.js";
import { button, clear, describeError, field, formatDate, h, messageBox, section, select, table } from "../dom.js";

function secretPanel(created, onDone) {
  const output = h("input", { type: "text", readonly: true, value: created.key, class: "secret", id: "new-key-secret", "aria-describedby": "new-key-warning" });
  const status = messageBox();
  const copy = button(
    "Copy key",
    async () => {
      try {
        await navigator.clipboard.writeText(created.key);
        status.show("Copied to the clipboard.");
      } catch {
        output.select();
        status.show("Copy failed: the key is selected, press Ctrl+C.", "error");
      }
    },
    { kind: "primary", id: "copy-key" },
  );
  return h(
    "div",
    { class: "panel secret-panel", role: "region", "aria-label": "New key" },
    h("h3", { text: `Key “${created.name}” created` }),
    h("p", { id: "new-key-warning", class: "warning", text: "Copy this key now. It is shown only once and cannot be recovered." }),
    field("Secret key", output),
    h("div", { class: "actions" }, copy, button("Done, I saved it", onDone, { id: "dismiss-key" })),
    status,
  );
}

function keyRows(rows, reload, message) {
  const current = session.get() || "";
  return table(
    [
      { label: "Name", render: (k) => k.name },
      { label: "Role", render: (k) => k.role },
      { label: "Key", render: (k) => h("code", { text: `tg_${k.public_id}_…` }) },
      { label: "Created", render: (k) => formatDate(k.created_at) },
      { label: "Last used", render: (k) => formatDate(k.last_used_at) },
      { label: "Status", render: (k) => h("span", { class: k.revoked_at ? "badge bad" : "badge good", text: k.revoked_at ? "Revoked" : "Active" }) },
      {
        label: "Actions",
        render: (k) => {
          if (k.revoked_at) return "";
          const own = current.startsWith(`tg_${k.public_id}_`);
          return button(
            "Revoke",
            async () => {
              const warning = own ? " This is the key you are signed in with; you will be signed out." : "";
              if (!window.confirm(`Revoke the key “${k.name}”? Calls using it will fail at once.${warning}`)) return;
              try {
                await api.del(`/v1/keys/${encodeURIComponent(k.id)}`);
                message.show(`Key “${k.name}” revoked.`);
                await reload();
              } catch (error) {
                message.show(`Could not revoke: ${describeError(error)}`, "error");
              }
            },
            { kind: "danger", "aria-label": `Revoke key ${k.name}` },
          );
        },
      },
    ],
    rows,
    { caption: "Gateway keys", empty: "No keys." },
  );
}

export async function render(root) {
  root.append(h("h1", { text: "Gateway keys" }), h("p", { class: "muted", text: "Keys that clients use to call the gateway. Only a hash is stored; a secret is shown once." }));
  const message = messageBox();
  const secretSlot = h("div");
  const listSlot = h("div");
  const name = h("input", { name: "name", autocomplete: "off", maxlength: 200 });
  const role = select("role", [["member", "member (execute, read own usage)"], ["admin", "admin (manage the workspace)"]], "member");
  const formMessage = messageBox();
  const form = h(
    "form",
    { class: "card inline-form", "aria-label": "Create a gateway key", novalidate: true },
    h("h2", { text: "Create a key" }),
    h("div", { class: "row" }, field("Name", name), field("Role", role), h("button", { type: "submit", class: "primary", text: "Create key" })),
    formMessage,
  );
  const reload = async () => {
    clear(listSlot);
    await section(listSlot, "Keys", "GET /v1/keys", async () => keyRows((await listAll("/v1/keys")).rows, reload, message));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formMessage.reset();
    try {
      const created = await api.post("/v1/keys", { name: name.value.trim(), role: role.value });
      name.value = "";
      clear(secretSlot, secretPanel(created, () => clear(secretSlot)));
      secretSlot.querySelector("#copy-key").focus();
      await reload();
    } catch (error) {
      formMessage.show(describeError(error), "error");
    }
  });
  root.append(form, secretSlot, message, listSlot);
  await reload();
}
