// What every part of the Letters view shares: finding and making elements, and the one
// place a problem or a quiet word is shown.
export const $ = (id) => document.getElementById(id);

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(text, label, onClick, className = "") {
  const node = make("button", className, text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  node.addEventListener("click", onClick);
  return node;
}

export function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

export function status(text) {
  $("status").textContent = text || "";
}

export function when(seconds) {
  return new Date(seconds * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
