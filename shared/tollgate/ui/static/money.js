// Money on the dashboard: exact arithmetic on the API's decimal strings (never a float), and ONE format.
//
// The format (the CLI's tollgate.money.usd_text is the same rule; exports carry the same exact digits):
// * exact, where a user reconciles (tables, records, prices, budget lines): every digit the API sent,
//   trailing zeros trimmed, at least 2 decimals: "$0.01061365", "$1.00", "$0.10";
// * readable, where a user scans (spend tiles): 2 decimals from $1, else 3 significant digits; when that
//   is not the exact amount it says so with "≈" and the exact amount is in the element's title:
//   "≈$0.0106" (title "$0.01061365"). Never a different number without the sign.
// * chart axes: ticks are exact multiples of one step, all written with the same number of decimals.
// Other currencies are written "<amount> <ISO code>" with the same rules ("18.50 ZAR", "≈0.196 ZAR").
function parse(value) {
  const text = String(value ?? "0").trim() || "0";
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return { units: 0n, scale: 0 };
  const fraction = match[3] || "";
  const units = BigInt(`${match[2] || "0"}${fraction}` || "0");
  return { units: match[1] ? -units : units, scale: fraction.length };
}

function rescale({ units, scale }, target) {
  return units * 10n ** BigInt(target - scale);
}

function render(units, scale) {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? digits.slice(digits.length - scale) : "";
  digits = fraction ? `${whole}.${fraction}` : whole;
  return `${negative ? "-" : ""}${digits}`;
}

export function addDecimals(values) {
  const parsed = values.map(parse);
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  const total = parsed.reduce((sum, p) => sum + rescale(p, scale), 0n);
  return render(total, scale);
}

export function subtractDecimal(a, b) {
  const pa = parse(a);
  const pb = parse(b);
  const scale = Math.max(pa.scale, pb.scale);
  return render(rescale(pa, scale) - rescale(pb, scale), scale);
}

// "0.001200" -> "0.0012", "12.5" -> "12.50": exact, trailing zeros trimmed, at least 2 decimals.
export function normalizeUsd(value) {
  const { units, scale } = parse(value);
  let text = render(units, scale);
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  const [whole, fraction = ""] = text.split(".");
  const result = `${whole}.${fraction.padEnd(2, "0")}`;
  return result === "-0.00" ? "0.00" : result;
}

function withCurrency(text, currency) {
  if (currency && currency !== "USD") return `${text} ${currency}`;
  return text.startsWith("-") ? `-$${text.slice(1)}` : `$${text}`;
}

// Exact: every digit, at least 2 decimals.
export function usd(value) {
  return money(value, "USD");
}

export function money(value, currency = "USD") {
  if (value === null || value === undefined || value === "") return "—";
  return withCurrency(normalizeUsd(value), currency);
}

function sameAmount(a, b) {
  const pa = parse(a);
  const pb = parse(b);
  const scale = Math.max(pa.scale, pb.scale);
  return rescale(pa, scale) === rescale(pb, scale);
}

// Round a decimal string half-up to `decimals` places, exactly (BigInt).
function roundTo(value, decimals) {
  const { units, scale } = parse(value);
  if (scale <= decimals) return render(rescale({ units, scale }, decimals), decimals);
  const divisor = 10n ** BigInt(scale - decimals);
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  let kept = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) kept += 1n;
  return render(negative ? -kept : kept, decimals);
}

// Readable: {text, exact, rounded} — text is what a tile shows, exact goes into its title.
export function readable(value, currency = "USD") {
  if (value === null || value === undefined || value === "") return { text: "—", exact: "—", rounded: false };
  const exactDigits = normalizeUsd(value);
  const magnitude = exactDigits.replace("-", "");
  let decimals = 2;
  if (Number.parseFloat(magnitude) < 1 && /[1-9]/.test(magnitude)) {
    const fraction = magnitude.split(".")[1] || "";
    const leadingZeros = fraction.length - fraction.replace(/^0+/, "").length;
    decimals = Math.max(2, leadingZeros + 3);
  }
  const shown = normalizeUsd(roundTo(exactDigits, decimals));
  const rounded = !sameAmount(shown, exactDigits);
  const exact = withCurrency(exactDigits, currency);
  return { text: `${rounded ? "≈" : ""}${withCurrency(shown, currency)}`, exact, rounded };
}

// Axis labels for ticks 0, step, 2·step, ... (step a float from the chart's scale): same decimals for all.
export function axisLabels(step, count) {
  let decimals = 2;
  while (decimals < 12 && Math.abs(Number(step.toFixed(decimals)) - step) > step * 1e-9) decimals += 1;
  return Array.from({ length: count + 1 }, (_, i) => `$${(step * i).toFixed(decimals)}`);
}

export function toNumber(value) {
  const number = Number.parseFloat(value);
  return Number.isFinite(number) ? number : 0;
}
