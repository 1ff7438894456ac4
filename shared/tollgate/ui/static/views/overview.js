// Overview: spend today / this week / this month, cost per day by provider, top lists,
// failure rate, pricing freshness and active keys. Every panel loads (and fails) on its own.
import { api, groupsOf, listAll } from "../api.js";
import { legend, stackedBars } from "../chart.js";
import { formatDate, formatNumber, h, percent, section, table } from "../dom.js";
import { addDecimals, readable, subtractDecimal, toNumber, usd } from "../money.js";

const DAY_MS = 86_400_000;
const MAX_CHART_PROVIDERS = 6;

export function periods(now = new Date()) {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const week = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY_MS;
  const month = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const chart = today - 29 * DAY_MS;
  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
  const days = Array.from({ length: 30 }, (_, i) => iso(chart + i * DAY_MS));
  return { today: iso(today), week: iso(week), month: iso(month), chart: iso(chart), earliest: iso(Math.min(week, month, chart)), days };
}

const startOf = (day) => `${day}T00:00:00Z`;
const dayOf = (group) => String(group.day ?? group.date ?? "").slice(0, 10);

export function summary(groupBy, fromDay, extra = {}) {
  return api.get("/v1/usage/summary", { group_by: groupBy, from: startOf(fromDay), ...extra }).then(groupsOf);
}

export function failuresOf(group) {
  const requests = Number(group.requests || 0);
  for (const name of ["failures", "errors", "failed"]) {
    if (group[name] !== undefined && group[name] !== null) return Number(group[name]);
  }
  if (group.successes !== undefined && group.successes !== null) return requests - Number(group.successes);
  if (group.success_rate !== undefined && group.success_rate !== null) {
    const rate = Number(group.success_rate);
    return Math.round(requests * (1 - (rate > 1 ? rate / 100 : rate)));
  }
  return 0;
}

// Tiles are read at a glance: the readable format, the exact amount in the title (and the display
// currency, at today's rate, on a second line when the workspace has one).
function spendCards(dayGroups, p) {
  const since = (test, field) => addDecimals(dayGroups.filter((g) => test(dayOf(g))).map((g) => g[field] ?? "0"));
  const currency = (dayGroups.find((g) => g.display_currency) || {}).display_currency || null;
  const card = (label, test, id) => {
    const amount = readable(since(test, "cost_usd"));
    const shown = currency ? readable(since(test, "cost_display"), currency) : null;
    return h(
      "div",
      { class: "stat" },
      h("span", { class: "stat-label", text: label }),
      h("span", { class: "stat-value", id, title: amount.exact, text: amount.text }),
      shown ? h("span", { class: "stat-display", id: `${id}-display`, title: shown.exact, text: shown.text }) : null,
    );
  };
  return h(
    "div",
    { class: "stats" },
    card("Spend today", (day) => day === p.today, "spend-today"),
    card("Spend this week", (day) => day >= p.week, "spend-week"),
    card("Spend this month", (day) => day >= p.month, "spend-month"),
  );
}

async function chartSeries(p) {
  const providers = (await summary("provider", p.chart)).sort((a, b) => toNumber(b.cost_usd) - toNumber(a.cost_usd));
  const totals = await summary("day", p.chart);
  const totalValues = Object.fromEntries(totals.map((g) => [dayOf(g), toNumber(g.cost_usd)]));
  const totalTexts = Object.fromEntries(totals.map((g) => [dayOf(g), String(g.cost_usd)]));
  const shown = providers.slice(0, MAX_CHART_PROVIDERS);
  const perProvider = await Promise.all(shown.map((g) => summary("day", p.chart, { provider: g.provider })));
  const series = shown.map((g, i) => ({
    name: String(g.provider),
    values: Object.fromEntries(perProvider[i].map((d) => [dayOf(d), toNumber(d.cost_usd)])),
    texts: Object.fromEntries(perProvider[i].map((d) => [dayOf(d), String(d.cost_usd)])),
  }));
  const sumShown = (day) => series.reduce((sum, s) => sum + (s.values[day] || 0), 0);
  // If the server ignored the provider filter, each series equals the total: fall back to one series.
  const ignored = series.length > 1 && p.days.some((d) => sumShown(d) > (totalValues[d] || 0) * 1.0001 + 1e-12);
  if (ignored || !series.length) return [{ name: "All providers", values: totalValues, texts: totalTexts }];
  const restTexts = Object.fromEntries(
    p.days.map((d) => [d, subtractDecimal(totalTexts[d] || "0", addDecimals(series.map((s) => s.texts[d] || "0")))]),
  );
  const rest = Object.fromEntries(p.days.map((d) => [d, Math.max(0, toNumber(restTexts[d]))]));
  if (Object.values(rest).some((v) => v > 0)) series.push({ name: "Other providers", values: rest, texts: restTexts });
  return series;
}

function chartBlock(days, series) {
  const rows = days.map((day) => ({ day, values: series.map((s) => s.values[day] || 0) }));
  const columns = [
    { label: "Day", render: (r) => r.day },
    ...series.map((s) => ({ label: s.name, numeric: true, render: (r) => usd((s.texts && s.texts[r.day]) || "0") })),
  ];
  return h(
    "div",
    {},
    stackedBars(days, series, { title: `Cost per day by provider, ${days[0]} to ${days[days.length - 1]} (UTC)` }),
    legend(series),
    h("details", {}, h("summary", { text: "Show the numbers as a table" }), table(columns, rows, { caption: "Cost per day" })),
  );
}

function groupName(g, field) {
  const value = g[field];
  if (value === null || value === undefined || value === "") return "(none)";
  // a model is only unambiguous with its provider (gpt-4o on openai and on openrouter are two rows)
  return field === "model" && g.provider ? `${g.provider}/${value}` : String(value);
}

function topTable(groups, field, label) {
  const rows = [...groups].sort((a, b) => toNumber(b.cost_usd) - toNumber(a.cost_usd)).slice(0, 5);
  return table(
    [
      { label, render: (g) => groupName(g, field) },
      { label: "Requests", numeric: true, render: (g) => formatNumber(g.requests) },
      { label: "Cost", numeric: true, render: (g) => usd(g.cost_usd) },
    ],
    rows,
    { caption: `Top ${label.toLowerCase()}s this month`, empty: "No usage this month." },
  );
}

function failureBlock(groups) {
  const requests = groups.reduce((sum, g) => sum + Number(g.requests || 0), 0);
  const failures = groups.reduce((sum, g) => sum + failuresOf(g), 0);
  const rate = requests ? failures / requests : 0;
  return h(
    "div",
    {},
    h("p", { class: "big", id: "failure-rate", text: percent(rate) }),
    h("p", { class: "muted", text: `${formatNumber(failures)} failed of ${formatNumber(requests)} requests this month` }),
    table(
      [
        { label: "Provider", render: (g) => String(g.provider) },
        { label: "Requests", numeric: true, render: (g) => formatNumber(g.requests) },
        { label: "Failure rate", numeric: true, render: (g) => percent(g.requests ? failuresOf(g) / g.requests : 0) },
      ],
      groups,
      { caption: "Failure rate by provider", empty: "No requests this month." },
    ),
  );
}

export function pricingFreshness(status) {
  const last = status.last_success ?? status.last_refresh ?? status.last_success_at ?? status.refreshed_at ?? null;
  const count = status.model_count ?? status.models ?? null;
  const stale = Boolean(status.stale);
  return h(
    "div",
    {},
    h("p", { class: stale ? "badge bad" : "badge good", id: "pricing-state", text: stale ? "Prices are stale" : "Prices are fresh" }),
    h("p", { text: `Last successful refresh: ${formatDate(last)}` }),
    count !== null ? h("p", { text: `Models priced: ${formatNumber(count)}` }) : null,
  );
}

export async function render(root) {
  const p = periods();
  root.append(h("h1", { text: "Overview" }), h("p", { class: "muted", text: `All times UTC. This month started ${p.month}; this week started ${p.week}.` }));
  const grid = h("div", { class: "grid" });
  const wide = h("div", { class: "grid-wide" });
  root.append(wide, grid);
  const dayGroups = summary("day", p.earliest);
  const monthly = {};
  const byMonth = (groupBy) => (monthly[groupBy] ??= summary(groupBy, p.month));
  await Promise.all([
    section(wide, "Spend", "GET /v1/usage/summary", async () => spendCards(await dayGroups, p)),
    section(wide, "Cost per day by provider (last 30 days)", "GET /v1/usage/summary", async () => chartBlock(p.days, await chartSeries(p))),
    section(grid, "Top models", "GET /v1/usage/summary", async () => topTable(await byMonth("model"), "model", "Model")),
    section(grid, "Top workflows", "GET /v1/usage/summary", async () => topTable(await byMonth("workflow"), "workflow", "Workflow")),
    section(grid, "Top agents", "GET /v1/usage/summary", async () => topTable(await byMonth("agent"), "agent", "Agent")),
    section(grid, "Failure rate", "GET /v1/usage/summary", async () => failureBlock(await byMonth("provider"))),
    section(grid, "Pricing freshness", "GET /v1/pricing/status", async () => pricingFreshness(await api.get("/v1/pricing/status"))),
    section(grid, "Gateway keys", "GET /v1/keys", async () => {
      const { rows } = await listAll("/v1/keys");
      const active = rows.filter((k) => !k.revoked_at).length;
      return h("div", {}, h("p", { class: "big", id: "active-keys", text: String(active) }), h("p", { class: "muted", text: `active of ${rows.length} created` }));
    }),
  ]);
}
