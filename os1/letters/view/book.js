// The book: the letters chosen for it, each a tap from being taken out, and its first
// pages as the PDF sets them (PNG images, typeset by the server).
import { api } from "/static/js/api.js";
import { $, button, make, notice } from "./dom.js";

const API = "/api/skills/letters";
let previews = 0; // the latest preview asked for: an older one arriving late is dropped

// The chosen letters from the list (no request of its own), and the preview redrawn
// when `changed` says the book is no longer what it was.
export function showBook(letters, { open, unchoose, changed }) {
  const chosen = letters.filter((l) => l.chosen);
  $("book-empty").hidden = chosen.length > 0;
  const items = chosen.map((letter) => {
    const item = make("li");
    const row = make("div", "row");
    const title = make("span", "title", letter.title);
    row.append(title);
    if (letter.written_for) row.append(make("span", "for", `for ${letter.written_for}`));
    row.append(
      button("Open", `Open “${letter.title}”`, () => open(letter.id), "quiet"),
      button("Take out", `Take “${letter.title}” out of the book`, () => unchoose(letter.id), "quiet"));
    item.append(row);
    if (letter.chosen_reason) item.append(make("p", "muted", letter.chosen_reason));
    return item;
  });
  $("book-list").replaceChildren(...items);
  if (!chosen.length) {
    $("preview").hidden = true;
    $("preview-pages").replaceChildren();
  } else if (changed) {
    preview();
  }
}

async function preview() {
  const asked = ++previews;
  $("preview-caption").textContent = "Setting the first pages…";
  $("preview").hidden = false;
  try {
    const shown = await api("GET", `${API}/book/preview?pages=3`);
    if (asked !== previews) return;
    const images = shown.pages.map((png, n) => {
      const image = make("img");
      image.src = `data:image/png;base64,${png}`;
      image.alt = `Page ${n + 1} of the book, as it will be printed`;
      image.width = 660;
      image.height = 990;
      return image;
    });
    $("preview-pages").replaceChildren(...images);
    $("preview-caption").textContent =
      `The first ${images.length} of its ${shown.page_count} pages, as the PDF sets them.`;
  } catch (error) {
    if (asked !== previews) return;
    $("preview-caption").textContent = "";
    $("preview").hidden = true;
    notice(error.message);
  }
}
