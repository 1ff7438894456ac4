// Usage explorer: filters, a cursor-paginated table, and a CSV export download.
import { api, groupsOf } from "../api.js";
import { button, clear, describeError, field, formatDate, formatNumber, h, messageBox, section, select, table } from "../dom.js";
import { usd } from "../money.js";

const TEXT_FILTERS = [
  ["provider", "Provider"],
  ["model", "Model"],
  ["workflow", "Workflow"],
  ["agent", "Agent"],
  ["key_id", "Key id"],
];

const COLUMNS = [
  { label: "Time", render: (r) => formatDate(r.created_at) },
  { label: "Provider", render: (r) => r.provider },
  { label: "Model", render: (r) => r.model },
  { label: "Status", render: (r) => h("span", { class: r.status === "success" ? "badge good" : "badge bad", text: r.error_type ? `${r.status}: ${r.error_type}` : r.status }) },
  { label: "Workflow", render: (r) => r.workflow || "—" },
  { label: "Agent", render: (r) => r.agent || "—" },
  { label: "Input", numeric: true, render: (r) => formatNumber(r.input_tokens) },
  { label: "Cache read", numeric: true, render: (r) => formatNumber(r.cache_read_tokens) },
  { label: "Output", numeric: true, render: (r) => formatNumber(r.output_tokens) },
  { label: "Cost", numeric: true, render: (r) => `${usd(r.cost_usd)}${r.estimated ? " (est.)" : ""}` },
  { label: "Latency", numeric: true, render: (r) => (r.latency_ms === null || r.latency_ms === undefined ? "—" : `${r.latency_ms} ms`) },
];

export async function render(root) {
  root.append(h("h1", { text: "Usage explorer" }));
  const inputs = Object.fromEntries(TEXT_FILTERS.map(([name]) => [name, h("input", { name, autocomplete: "off" })]));
  inputs.from = h("input", { name: "from", type: "date" });
  inputs.to = h("input", { name: "to", type: "date" });
  inputs.status = select("status", [["", "any"], ["success", "success"], ["error", "error"]], "");
  const pageSize = select("limit", ["25", "50", "100"], "50");
  const message = messageBox();
  const results = h("div");
  const pager = h("div", { class: "actions pager" });
  const cursors = [null];
  let pageIndex = 0;

  const filters = () => {
    const query = {};
    for (const [name] of TEXT_FILTERS) if (inputs[name].value.trim()) query[name] = inputs[name].value.trim();
    if (inputs.status.value) query.status = inputs.status.value;
    if (inputs.from.value) query.from = `${inputs.from.value}T00:00:00Z`;
    if (inputs.to.value) query.to = `${inputs.to.value}T23:59:59Z`;
    return query;
  };

  const load = async () => {
    clear(results);
    clear(pager);
    await section(results, "Records", "GET /v1/usage", async () => {
      const page = await api.get("/v1/usage", { ...filters(), limit: pageSize.value, cursor: cursors[pageIndex] });
      const rows = groupsOf(page);
      cursors[pageIndex + 1] = page.next_cursor || null;
      const previous = button("Previous page", () => {
        pageIndex -= 1;
        load();
      }, { disabled: pageIndex === 0 });
      const next = button("Next page", () => {
        pageIndex += 1;
        load();
      }, { disabled: !page.next_cursor });
      pager.append(previous, h("span", { class: "muted", text: `Page ${pageIndex + 1}` }), next);
      return table(COLUMNS, rows, { caption: "Usage records", empty: "No usage matches these filters." });
    });
  };

  const exportCsv = async () => {
    message.show("Preparing the CSV export…");
    try {
      const response = await api.raw("/v1/usage/export", { ...filters(), format: "csv" });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: "tollgate-usage.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      message.show("CSV export downloaded.");
    } catch (error) {
      message.show(error.notAvailable ? "CSV export is not available on this gateway (GET /v1/usage/export)." : `Export failed: ${describeError(error)}`, "error");
    }
  };

  const form = h(
    "form",
    { class: "card", "aria-label": "Usage filters", novalidate: true },
    h(
      "div",
      { class: "form-grid filters" },
      field("From (UTC)", inputs.from),
      field("To (UTC)", inputs.to),
      TEXT_FILTERS.map(([name, label]) => field(label, inputs[name])),
      field("Status", inputs.status),
      field("Rows per page", pageSize),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Apply filters" }), button("Export CSV", exportCsv, { id: "export-csv" })),
    message,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors.length = 1;
    pageIndex = 0;
    load();
  });
  root.append(form, results, pager);
  await load();
}
