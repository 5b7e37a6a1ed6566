// His letters in the browser: the list (★ for the book's), one letter with her
// suggestions inline to accept or reject, its versions, adding and editing, and the book.
// Every change is one request to /api/skills/letters, whose answer is redrawn as it is:
// the server's word is the truth, and the page keeps within the API's request budget.
import { api, ApiError, token } from "/static/js/api.js";
import { showBook } from "./book.js";
import { $, button, make, notice, plural, status, when } from "./dom.js";
import { markedText, reviewTools } from "./marks.js";
import { askHer, readOverRequest } from "./reading.js";

const API = "/api/skills/letters";
const MAX_LETTER_CHARS = 200000; // as the server's: a longer one is refused there too

let letters = []; // summaries, oldest first
let current = null; // the letter shown, whole

function failed(error) {
  if (error instanceof ApiError && error.status === 401) signedOut();
  else notice(error.message);
}

function signedOut() {
  $("desk").hidden = true;
  $("signed-out").hidden = false;
}

// -- the list ---------------------------------------------------------------------------

function drawList() {
  $("no-letters").hidden = letters.length > 0;
  $("letter-list").replaceChildren(...letters.map((letter) => {
    const item = make("li");
    const open = make("button");
    open.type = "button";
    open.dataset.id = String(letter.id);
    if (current && current.id === letter.id) open.setAttribute("aria-current", "true");
    const star = make("span", "star", letter.chosen ? "★" : "");
    star.setAttribute("aria-hidden", "true");
    open.append(star, make("span", "title", letter.title));
    if (letter.chosen) open.append(make("span", "sr-only", " (in the book)"));
    if (letter.waiting) open.append(make("span", "waiting", plural(letter.waiting, "suggestion", "suggestions")));
    open.addEventListener("click", () => openLetter(letter.id).catch(failed));
    item.append(open);
    return item;
  }));
}

// A letter as the server gave it, into the list (the list's entry is its summary).
function remember(letter) {
  const summary = { ...letter };
  summary.waiting = letter.suggestions.filter((s) => !s.decision).length;
  const at = letters.findIndex((l) => l.id === letter.id);
  const bookChanged = at < 0 ? letter.chosen : (letters[at].chosen !== letter.chosen
    || (letter.chosen && letters[at].version !== letter.version)
    || (letter.chosen && letters[at].title !== letter.title));
  if (at < 0) letters.push(summary);
  else letters[at] = summary;
  return bookChanged;
}

function drawBook(changed) {
  showBook(letters, { open: (id) => openLetter(id).catch(failed), unchoose: (id) => choose(id, false), changed });
}

async function loadList() {
  letters = await api("GET", `${API}/letters`);
  drawList();
  drawBook(true);
}

// -- one letter ---------------------------------------------------------------------------

async function openLetter(id) {
  notice("");
  show(await api("GET", `${API}/letters/${id}`));
  $("her-words").hidden = true;
  $("letter").hidden = false;
  $("letter-title").focus();
}

function show(letter) {
  current = letter;
  const changed = remember(letter);
  drawList();
  drawBook(changed);
  $("letter-title").textContent = letter.title;
  const about = [letter.written_for ? `For ${letter.written_for}` : "For no one named",
    plural(letter.words, "word", "words"), `version ${letter.version}`, `changed ${when(letter.updated_at)}`];
  $("letter-meta").textContent = about.join(" · ");
  $("letter-reason").textContent = letter.chosen_reason;
  $("letter-reason").hidden = !letter.chosen || !letter.chosen_reason;
  $("choose").setAttribute("aria-pressed", String(letter.chosen));
  $("choose").textContent = letter.chosen ? "★ In the book" : "In the book";
  $("remove").textContent = "Remove";
  delete $("remove").dataset.confirm;
  $("edit-form").hidden = true;
  $("letter-text").hidden = false;
  markedText($("letter-text"), letter, answer);
  const review = reviewTools($("kinds"), $("review-summary"), letter, answer);
  $("review").hidden = letter.suggestions.length === 0;
  $("review-stale").hidden = !review.stale;
  $("accept-all").hidden = review.waiting === 0;
  $("reject-all").hidden = review.waiting === 0;
  $("finish").hidden = !(review.accepted && review.waiting);
  drawVersions(letter);
}

async function answer(body) {
  notice("");
  const id = current.id;
  const number = body.numbers ? body.numbers[0] : null;
  try {
    const outcome = await api("POST", `${API}/letters/${id}/suggestions/answer`, body);
    show(outcome.letter);
    said(outcome);
    const again = number && $("letter-text").querySelector(`.sugg[data-number="${number}"] .mark`);
    (again || $("letter-title")).focus();
  } catch (error) {
    failed(error);
  }
}

function said(outcome) {
  if (outcome.waiting) status(`${outcome.accepted} accepted, ${outcome.rejected} rejected; ${outcome.waiting} still waiting.`);
  else status(`Done: ${outcome.accepted} accepted, ${outcome.rejected} rejected. The letter is at version ${outcome.letter.version}.`);
}

async function finish() {
  try {
    const outcome = await api("POST", `${API}/letters/${current.id}/suggestions/finish`);
    show(outcome.letter);
    said(outcome);
  } catch (error) {
    failed(error);
  }
}

async function readOver() {
  const id = current.id;
  const ask = $("read-over");
  ask.disabled = true;
  notice("");
  status("She's reading it over…");
  $("her-words").hidden = false;
  $("her-said").textContent = "…";
  try {
    const words = await askHer(readOverRequest(id), {
      onPiece: (text) => { $("her-said").textContent = text; },
      onWaiting: (message) => status(`${message} Your request waits its turn.`),
    });
    $("her-said").textContent = words || "…";
    if (current && current.id === id) {
      show(await api("GET", `${API}/letters/${id}`));
      status(current.suggestions.length ? "Her suggestions are marked in the letter." : "She has no suggestions waiting on it.");
    }
  } catch (error) {
    status("");
    if (error.status === 401) signedOut();
    else notice(`She couldn't be asked: ${error.message}`);
  } finally {
    ask.disabled = false;
  }
}

async function choose(id, chosen) {
  notice("");
  try {
    const letter = await api("PUT", `${API}/letters/${id}/chosen`, { chosen, reason: "" });
    if (current && current.id === id) show(letter);
    else {
      remember(letter);
      drawList();
      drawBook(true);
    }
    status(chosen ? `“${letter.title}” is in the book.` : `“${letter.title}” is out of the book.`);
  } catch (error) {
    failed(error);
  }
}

async function remove() {
  const removing = $("remove");
  if (removing.dataset.confirm !== "1") {
    removing.dataset.confirm = "1";
    removing.textContent = "Remove for good?";
    return;
  }
  try {
    const gone = await api("DELETE", `${API}/letters/${current.id}`);
    letters = letters.filter((l) => l.id !== gone.id);
    current = null;
    $("letter").hidden = true;
    drawList();
    drawBook(gone.chosen);
    status(`Removed “${gone.title}” and its versions.`);
    $("shelf-title").focus();
  } catch (error) {
    failed(error);
  }
}

// -- editing and versions -------------------------------------------------------------------

function startEdit() {
  $("edit-title").value = current.title;
  $("edit-for").value = current.written_for;
  $("edit-text").value = current.text;
  $("letter-text").hidden = true;
  $("edit-form").hidden = false;
  $("edit-text").focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const body = { title: $("edit-title").value, written_for: $("edit-for").value };
  try {
    if ($("edit-text").value !== current.text) body.text = tooLong($("edit-text").value);
    const before = current.version;
    show(await api("PATCH", `${API}/letters/${current.id}`, body));
    status(current.version > before ? `Saved as version ${current.version}; the earlier ones are kept.` : "Saved.");
  } catch (error) {
    failed(error);
  }
}

function drawVersions(letter) {
  $("versions-title").textContent = `Versions (${letter.versions.length})`;
  $("version-shown").hidden = true;
  $("version-list").replaceChildren(...[...letter.versions].reverse().map((v) => {
    const item = make("li");
    item.value = v.number;
    item.append(make("span", "", `${when(v.created_at)} · ${v.note} · ${plural(v.words, "word", "words")}`),
      button("Show", `Show version ${v.number}`, () => showVersion(v.number).catch(failed), "quiet"));
    return item;
  }));
}

async function showVersion(number) {
  const version = await api("GET", `${API}/letters/${current.id}/versions/${number}`);
  $("version-shown-title").textContent = `Version ${number}${number === current.version ? " (as it is now)" : ""}`;
  $("version-text").textContent = version.text;
  $("restore").hidden = number === current.version;
  $("restore").dataset.number = String(number);
  $("version-shown").hidden = false;
}

async function restore() {
  try {
    const version = await api("GET", `${API}/letters/${current.id}/versions/${$("restore").dataset.number}`);
    show(await api("PATCH", `${API}/letters/${current.id}`, { text: version.text }));
    status(`Version ${version.number} is the letter again, as version ${current.version}.`);
  } catch (error) {
    failed(error);
  }
}

// -- adding ---------------------------------------------------------------------------------

function tooLong(text) {
  if (text.length > MAX_LETTER_CHARS) {
    throw new Error(`That letter is ${text.length.toLocaleString("en")} characters long; a letter here can be at most ${MAX_LETTER_CHARS.toLocaleString("en")}.`);
  }
  return text;
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(new Error(`${file.name} couldn't be read.`));
    reader.readAsDataURL(file);
  });
}

async function add(event) {
  event.preventDefault();
  notice("");
  const described = { title: $("add-title").value.trim(), written_for: $("add-for").value.trim() };
  const file = $("add-file").files[0];
  try {
    const added = file
      ? await api("POST", `${API}/letters/file`, { name: file.name, data: await base64Of(file), ...described })
      : await api("POST", `${API}/letters`, { text: tooLong($("add-text").value), ...described });
    $("add-form").reset();
    $("add").open = false;
    show(added.letter);
    $("her-words").hidden = true;
    $("letter").hidden = false;
    status([`Kept “${added.letter.title}”.`, ...added.notes].join(" "));
    $("letter-title").focus();
  } catch (error) {
    failed(error);
  }
}

// -- start ------------------------------------------------------------------------------------

function bind() {
  $("add-form").addEventListener("submit", add);
  $("read-over").addEventListener("click", readOver);
  $("choose").addEventListener("click", () => choose(current.id, !current.chosen));
  $("edit").addEventListener("click", startEdit);
  $("edit-form").addEventListener("submit", saveEdit);
  $("edit-cancel").addEventListener("click", () => show(current));
  $("remove").addEventListener("click", remove);
  $("accept-all").addEventListener("click", () => answer({ decision: "accepted" }));
  $("reject-all").addEventListener("click", () => answer({ decision: "rejected" }));
  $("finish").addEventListener("click", finish);
  $("restore").addEventListener("click", restore);
}

async function main() {
  bind();
  if (!token()) return signedOut();
  $("desk").hidden = false;
  try {
    await loadList();
  } catch (error) {
    failed(error);
  }
}

main();
