// A hand-written stacked bar chart in SVG (no library): cost per day, one colour per series.
import { axisLabels, readable, usd } from "./money.js";

const SVG = "http://www.w3.org/2000/svg";
export const PALETTE = ["#1f77b4", "#e07b00", "#2ca02c", "#c0392b", "#8e44ad", "#7f6a00", "#16a2b8", "#6c757d"];

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

// days: ["2025-01-01", ...]; series: [{name, values: {day: number}, texts?: {day: exact decimal string}}]
export function stackedBars(days, series, { title }) {
  const width = 860;
  const height = 240;
  const pad = { top: 12, right: 12, bottom: 34, left: 64 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const totals = days.map((day) => series.reduce((sum, s) => sum + (s.values[day] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  svg.append(el("title", {}, title));
  const labels = axisLabels(max / 4, 4);
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.top + plotH - (plotH * i) / 4;
    svg.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end", class: "axis" }, labels[i]));
  }
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, slot * 0.7);
  days.forEach((day, index) => {
    const x = pad.left + index * slot + (slot - barW) / 2;
    let y = pad.top + plotH;
    series.forEach((s, seriesIndex) => {
      const value = s.values[day] || 0;
      if (value <= 0) return;
      const barH = (value / max) * plotH;
      y -= barH;
      const rect = el("rect", { x, y, width: barW, height: Math.max(barH, 0.5), fill: PALETTE[seriesIndex % PALETTE.length] });
      const exact = s.texts && s.texts[day] !== undefined ? usd(s.texts[day]) : readable(String(value)).text;
      rect.append(el("title", {}, `${day} · ${s.name}: ${exact}`));
      svg.append(rect);
    });
    if (index % 5 === 0 || index === days.length - 1) {
      svg.append(el("text", { x: x + barW / 2, y: height - pad.bottom + 16, "text-anchor": "middle", class: "axis" }, day.slice(5)));
    }
  });
  return svg;
}

export function legend(series) {
  const list = document.createElement("ul");
  list.className = "legend";
  series.forEach((s, index) => {
    const item = document.createElement("li");
    const swatch = document.createElementNS(SVG, "svg");
    swatch.setAttribute("viewBox", "0 0 10 10");
    swatch.setAttribute("aria-hidden", "true");
    swatch.append(el("rect", { width: 10, height: 10, fill: PALETTE[index % PALETTE.length] }));
    item.append(swatch, document.createTextNode(s.name));
    list.append(item);
  });
  return list;
}
