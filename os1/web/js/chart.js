// Her mood over time as a small SVG line chart (no library, no inline styles).
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

export function moodChart(container, points) {
  container.replaceChildren();
  const w = 600, h = 180, pad = 24;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "mood-svg", "aria-hidden": "true",
    focusable: "false" }, container);
  const y = (v) => pad + ((1 - v) / 2) * (h - 2 * pad);
  el("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0), class: "axis" }, svg);
  for (const [v, label] of [[1, "happy"], [-1, "low"]]) {
    const t = el("text", { x: pad, y: y(v) - 6, class: "axis-label" }, svg);
    t.textContent = label;
  }
  if (points.length) {
    const t0 = points[0].at, t1 = points[points.length - 1].at;
    const span = Math.max(1, t1 - t0);
    const x = (at) => (points.length === 1 ? w / 2 : pad + ((at - t0) / span) * (w - 2 * pad));
    const path = points.map((p, i) => `${i ? "L" : "M"}${x(p.at).toFixed(1)},${y(p.valence).toFixed(1)}`).join(" ");
    el("path", { d: path, class: "line" }, svg);
    for (const p of points) el("circle", { cx: x(p.at), cy: y(p.valence), r: 3.5, class: "point" }, svg);
  }
  const feelings = points.map((p) => p.feeling);
  const summary = points.length > 1
    ? `Her mood over ${points.length} moments, from ${feelings[0]} to ${feelings[feelings.length - 1]}.`
    : `Her mood: ${feelings[0] || "not known yet"}.`;
  container.setAttribute("aria-label", summary);
}
