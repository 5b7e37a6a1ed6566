// The letter's text with her suggestions inline: his words marked where she would change
// them, her replacement beside them, and, a tap away, her reason with Accept and Reject.
// Only suggestions whose words are still where she read them are placed in the text.
import { button, make, plural } from "./dom.js";

const KINDS = ["spelling", "grammar", "punctuation", "word choice", "fluency"];

function quoted(words) {
  return words ? `“${words}”` : "nothing";
}

// One suggestion: the marked words (a button that opens her note) and the note.
function suggestion(s, answer) {
  const wrap = make("span", "sugg");
  wrap.dataset.kind = s.kind;
  wrap.dataset.decision = s.decision;
  wrap.dataset.number = String(s.number);
  const noteId = `suggestion-${s.number}`;
  const mark = make("button", "mark");
  mark.type = "button";
  mark.title = s.reason;
  mark.setAttribute("aria-expanded", "false");
  mark.setAttribute("aria-controls", noteId);
  const state = s.decision ? `, ${s.decision}` : "";
  mark.setAttribute("aria-label",
    `Suggestion ${s.number}, ${s.kind}${state}: ${quoted(s.original)} to ${quoted(s.replacement)}`);
  if (s.original) mark.append(make("del", "", s.original));
  else mark.append(make("span", "gap", "‸"));
  if (s.replacement) mark.append(make("ins", "", s.replacement));

  const note = make("span", "note");
  note.id = noteId;
  note.hidden = true;
  note.setAttribute("role", "group");
  note.setAttribute("aria-label", `Suggestion ${s.number}`);
  const choices = make("span", "choices");
  const accept = button("Accept", `Accept suggestion ${s.number}: ${quoted(s.replacement)} for ${quoted(s.original)}`,
    () => answer({ decision: "accepted", numbers: [s.number] }));
  const reject = button("Reject", `Reject suggestion ${s.number}: keep ${quoted(s.original)}`,
    () => answer({ decision: "rejected", numbers: [s.number] }));
  accept.setAttribute("aria-pressed", String(s.decision === "accepted"));
  reject.setAttribute("aria-pressed", String(s.decision === "rejected"));
  choices.append(accept, reject);
  note.append(make("span", "kind-name", s.kind), make("span", "reason", s.reason), choices);
  mark.addEventListener("click", () => {
    note.hidden = !note.hidden;
    mark.setAttribute("aria-expanded", String(!note.hidden));
    if (!note.hidden) accept.focus();
  });
  wrap.append(mark, note);
  return wrap;
}

// The letter's text into `box`, her fitting suggestions placed in it.
export function markedText(box, letter, answer) {
  const placed = letter.suggestions.filter((s) => s.fits).sort((a, b) => a.start - b.start);
  const nodes = [];
  let at = 0;
  for (const s of placed) {
    if (s.start < at) continue; // never two on the same words: merged before they came
    nodes.push(document.createTextNode(letter.text.slice(at, s.start)), suggestion(s, answer));
    at = s.end;
  }
  nodes.push(document.createTextNode(letter.text.slice(at)));
  box.replaceChildren(...nodes);
}

// Her suggestions' summary, and Accept all / Reject all for each kind still waiting.
export function reviewTools(kindsBox, summaryBox, letter, answer) {
  const waiting = letter.suggestions.filter((s) => !s.decision);
  const accepted = letter.suggestions.filter((s) => s.decision === "accepted").length;
  const rejected = letter.suggestions.filter((s) => s.decision === "rejected").length;
  const parts = [`${plural(waiting.length, "suggestion waits", "suggestions wait")} for your answer`];
  if (accepted || rejected) parts.push(`${accepted} accepted, ${rejected} rejected so far`);
  summaryBox.textContent = `${parts.join("; ")}.`;
  const rows = [];
  for (const kind of KINDS) {
    const count = waiting.filter((s) => s.kind === kind).length;
    if (!count || count === waiting.length) continue; // one kind only: "all" says it
    const row = make("div", "kind-row");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", `${kind} suggestions`);
    row.append(make("span", "kind-name", `${kind} (${count})`),
      button("Accept all", `Accept all ${plural(count, kind, kind)} suggestions`,
        () => answer({ decision: "accepted", kind })),
      button("Reject all", `Reject all ${plural(count, kind, kind)} suggestions`,
        () => answer({ decision: "rejected", kind })));
    rows.push(row);
  }
  kindsBox.replaceChildren(...rows);
  return { waiting: waiting.length, accepted, stale: letter.suggestions.some((s) => !s.fits) };
}
