// What she made, in the browser: a card for each piece and drawing with its versions, the
// piece's sound and sheet music, the drawing itself, her words about it, and removing it.
// Lists come from /api/skills/made; a version's files are fetched with the login token
// (never put in a URL) only once its card is on the screen, so a long gallery keeps
// within the API's request budget, and each file is fetched once.
import { api, ApiError, token } from "/static/js/api.js";

const API = "/api/skills/made";
const NEAR = "400px"; // how close to the screen a card must come before its files load
const MAX_TRIES = 3; // a file refused for the request budget is asked again this often

const $ = (id) => document.getElementById(id);
let works = []; // newest first, as the server gave them
const files = new Map(); // "id/number/role" -> Promise of a URL the page can show
let seen = null; // the IntersectionObserver that loads a card's files

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function status(text) {
  $("status").textContent = text || "";
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) signedOut();
  else notice(error.message);
}

function signedOut() {
  $("gallery").hidden = true;
  $("signed-out").hidden = false;
}

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

// -- a version's files ---------------------------------------------------------------------

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function fetchFile(path) {
  for (let tries = 1; ; tries += 1) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${token()}` }, credentials: "omit",
      cache: "no-store", referrerPolicy: "no-referrer",
    });
    if (response.ok) return response.blob();
    if (response.status === 429 && tries < MAX_TRIES) {
      await pause(1000 * Math.min(30, Number(response.headers.get("Retry-After")) || 2));
      continue;
    }
    let message = `The file couldn't be fetched (${response.status}).`;
    try {
      message = (await response.json()).error.message || message;
    } catch {
      // not the server's error shape: the status says enough
    }
    throw new ApiError(response.status, message);
  }
}

// The view's Content-Security-Policy lets a picture come from this server or a data: URL
// (not a blob: one), and a sound from a blob: URL.
function asDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error("A picture couldn't be read."));
    reader.readAsDataURL(blob);
  });
}

function fileUrl(id, number, role) {
  const key = `${id}/${number}/${role}`;
  if (!files.has(key)) {
    const url = fetchFile(`${API}/${id}/versions/${number}/${role}`)
      .then((blob) => (role === "audio" ? URL.createObjectURL(blob) : asDataUrl(blob)));
    url.catch(() => files.delete(key)); // asked again next time it is shown
    files.set(key, url);
  }
  return files.get(key);
}

function forgetFiles(id) {
  for (const [key, url] of files) {
    if (!key.startsWith(`${id}/`)) continue;
    files.delete(key);
    url.then((u) => { if (u.startsWith("blob:")) URL.revokeObjectURL(u); }, () => {});
  }
}

// Every element of a card waiting for a file (data-role) gets it.
function loadFiles(card) {
  for (const node of card.querySelectorAll("[data-role]:not([data-loading])")) {
    node.dataset.loading = "1";
    node.setAttribute("aria-busy", "true");
    fileUrl(card.dataset.id, node.dataset.number, node.dataset.role).then((url) => {
      node.src = url;
      node.removeAttribute("aria-busy");
    }).catch((error) => {
      delete node.dataset.loading;
      node.removeAttribute("aria-busy");
      failed(error);
    });
  }
}

// -- a card ---------------------------------------------------------------------------------

const SHARP_FLAT = { "#": "♯", b: "♭" };

function describe(c) {
  const key = c.key.replace(/^([A-G])([#b])/, (_, note, sign) => note + SHARP_FLAT[sign]);
  return `${key} ${c.mode} · ${c.tempo} beats a minute · ${c.meter} · ${c.instrument}`;
}

function waiting(tag, version, role) {
  const node = make(tag, role);
  node.dataset.role = role;
  node.dataset.number = String(version.number);
  return node;
}

function music(work, version) {
  const parts = [];
  if (version.character) parts.push(make("p", "character", describe(version.character)));
  if (version.her_words) parts.push(make("blockquote", "her-words", version.her_words));
  if (version.files.includes("audio")) {
    const sound = waiting("audio", version, "audio");
    sound.controls = true;
    sound.preload = "metadata";
    sound.setAttribute("aria-label", `“${work.title}”, version ${version.number}`);
    parts.push(sound);
  }
  if (version.files.includes("sheet")) {
    const sheet = waiting("img", version, "sheet");
    sheet.alt = `Sheet music of “${work.title}”, version ${version.number}`;
    const figure = make("figure", "sheet-music");
    figure.append(sheet);
    parts.push(figure);
  }
  return parts;
}

function drawing(work, version) {
  const parts = [];
  if (version.files.includes("png")) {
    const picture = waiting("img", version, "png");
    picture.alt = `Her drawing: ${work.about}`;
    const figure = make("figure", "drawing");
    figure.append(picture);
    parts.push(figure);
  }
  if (version.her_words) parts.push(make("blockquote", "her-words", version.her_words));
  return parts;
}

function showVersion(card, work, number) {
  const version = work.versions.find((v) => v.number === number) || work.versions.at(-1);
  const latest = version === work.versions.at(-1);
  const asked = version.request ? ` · you asked: “${version.request}”` : "";
  const meta = make("p", "muted version-meta",
    `Version ${version.number}${latest ? "" : " (an earlier one)"} · ${when(version.created_at)}${asked}`);
  const body = work.kind === "music" ? music(work, version) : drawing(work, version);
  card.querySelector(".version").replaceChildren(meta, ...body);
  if (card.dataset.seen === "1") loadFiles(card);
}

function picker(card, work) {
  const id = `version-${work.id}`;
  const row = make("div", "picker");
  const label = make("label", "", "Version");
  label.htmlFor = id;
  const select = make("select");
  select.id = id;
  for (const v of [...work.versions].reverse()) {
    const request = v.request ? ` · ${v.request}` : "";
    const option = make("option", "", `${v.number} of ${work.versions.length}${request}`);
    option.value = String(v.number);
    select.append(option);
  }
  select.value = String(work.versions.at(-1).number);
  select.addEventListener("change", () => showVersion(card, work, Number(select.value)));
  row.append(label, select);
  return row;
}

function removeButton(work) {
  const remove = make("button", "quiet danger", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove “${work.title}”`);
  remove.addEventListener("click", () => removeWork(work, remove));
  remove.addEventListener("blur", () => {
    delete remove.dataset.confirm;
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove “${work.title}”`);
  });
  return remove;
}

function card(work) {
  const item = make("li", "work card");
  item.dataset.id = String(work.id);
  item.dataset.kind = work.kind;
  item.setAttribute("aria-labelledby", `work-${work.id}-title`);
  const head = make("div", "work-head");
  const title = make("h2", "", work.title);
  title.id = `work-${work.id}-title`;
  head.append(title, make("span", "kind", work.kind === "music" ? "Music" : "Drawing"));
  item.append(head);
  // the whole subject, where the title is only its first words
  if (work.about.toLowerCase() !== work.title.toLowerCase()) item.append(make("p", "about", work.about));
  const actions = make("div", "actions");
  actions.append(picker(item, work), removeButton(work));
  item.append(actions, make("div", "version"));
  showVersion(item, work, work.versions.at(-1).number);
  return item;
}

// -- the gallery ----------------------------------------------------------------------------

function draw() {
  $("loading").hidden = true;
  $("no-works").hidden = works.length > 0;
  seen.disconnect();
  $("works").replaceChildren(...works.map(card));
  for (const item of $("works").children) seen.observe(item);
}

function cameIntoView(entries) {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    entry.target.dataset.seen = "1";
    seen.unobserve(entry.target);
    loadFiles(entry.target);
  }
}

async function removeWork(work, remove) {
  if (remove.dataset.confirm !== "1") {
    remove.dataset.confirm = "1";
    remove.textContent = "Remove for good?";
    remove.setAttribute("aria-label", `Remove “${work.title}” and every version, for good?`);
    return;
  }
  notice("");
  try {
    const gone = await api("DELETE", `${API}/${work.id}`);
    works = works.filter((w) => w.id !== gone.id);
    forgetFiles(gone.id);
    $("works").querySelector(`[data-id="${gone.id}"]`)?.remove();
    $("no-works").hidden = works.length > 0;
    status(`Removed “${gone.title}” and its versions.`);
    $("gallery-title").focus();
  } catch (error) {
    failed(error);
  }
}

async function main() {
  if (!token()) return signedOut();
  $("gallery").hidden = false;
  seen = new IntersectionObserver(cameIntoView, { rootMargin: NEAR });
  try {
    works = await api("GET", API);
    draw();
  } catch (error) {
    $("loading").hidden = true;
    failed(error);
  }
}

main();
