// Exact arithmetic on the API's decimal strings (money is never a float here).
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

export function usd(value) {
  if (value === null || value === undefined || value === "") return "—";
  const text = normalizeUsd(value);
  return text.startsWith("-") ? `-$${text.slice(1)}` : `$${text}`;
}

export function toNumber(value) {
  const number = Number.parseFloat(value);
  return Number.isFinite(number) ? number : 0;
}
