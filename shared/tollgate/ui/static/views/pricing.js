// Pricing: a searchable table with source and last change, and a stale warning.
import { api, listAll } from "../api.js";
import { clear, formatDate, h, section, table } from "../dom.js";
import { usd } from "../money.js";

const MAX_ROWS = 300;

// Prices are exact amounts: every digit, at least 2 decimals ("$1.00", "$0.10", "$0.075").
const price = (value) => usd(value);

const COLUMNS = [
  { label: "Provider", render: (p) => p.provider },
  { label: "Model", render: (p) => p.model },
  { label: "Input / 1M", numeric: true, render: (p) => price(p.input_per_1m) },
  { label: "Output / 1M", numeric: true, render: (p) => price(p.output_per_1m) },
  { label: "Cache read / 1M", numeric: true, render: (p) => price(p.cache_read_per_1m) },
  { label: "Cache write / 1M", numeric: true, render: (p) => price(p.cache_write_per_1m) },
  { label: "Reasoning / 1M", numeric: true, render: (p) => price(p.reasoning_per_1m) },
  { label: "Source", render: (p) => p.source || "—" },
  { label: "Last change", render: (p) => formatDate(p.effective_from) },
];

function statusBanner(status) {
  const last = status.last_success ?? status.last_refresh ?? status.last_success_at ?? status.refreshed_at ?? null;
  if (status.stale) {
    return h("div", { class: "panel warning-panel", role: "alert", id: "pricing-stale" }, h("strong", { text: "Prices are stale." }), ` The last successful refresh was ${formatDate(last)}; costs may be out of date.`);
  }
  return h("p", { class: "badge good", id: "pricing-fresh", text: `Prices are fresh (last refresh ${formatDate(last)})` });
}

export async function render(root) {
  root.append(h("h1", { text: "Pricing" }), h("p", { class: "muted", text: "USD per 1M tokens. Manual overrides win over the feeds." }));
  const statusSlot = h("div");
  const tableSlot = h("div");
  root.append(statusSlot, tableSlot);
  await section(statusSlot, "Freshness", "GET /v1/pricing/status", async () => statusBanner(await api.get("/v1/pricing/status")));
  const search = h("input", { type: "search", id: "pricing-search", autocomplete: "off", placeholder: "provider or model" });
  const count = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const results = h("div");
  await section(tableSlot, "Prices", "GET /v1/pricing", async () => {
    const { rows, truncated } = await listAll("/v1/pricing");
    rows.sort((a, b) => `${a.provider}/${a.model}`.localeCompare(`${b.provider}/${b.model}`));
    const draw = () => {
      const terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      const matching = rows.filter((p) => terms.every((t) => `${p.provider}/${p.model} ${p.source || ""}`.toLowerCase().includes(t)));
      const more = matching.length > MAX_ROWS ? ` (showing the first ${MAX_ROWS}; refine the search)` : "";
      count.textContent = `${matching.length} of ${rows.length} models${truncated ? "+" : ""}${more}`;
      clear(results, table(COLUMNS, matching.slice(0, MAX_ROWS), { caption: "Model prices", empty: "No model matches the search." }));
    };
    search.addEventListener("input", draw);
    draw();
    return h("div", {}, h("div", { class: "field search" }, h("label", { for: "pricing-search", text: "Search models" }), search), count, results);
  });
}
