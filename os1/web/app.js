// os1 in the browser: accounts, first-run setup, the conversation, her, her memories.
import { api, ApiError, setToken, token } from "./js/api.js";
import { moodChart } from "./js/chart.js";
import { Conversation } from "./js/conversation.js";

const $ = (id) => document.getElementById(id);
const STATE_TEXT = {
  listening: "listening", thinking: "thinking", speaking: "speaking", idle: "idle",
  reconnecting: "reconnecting…", connecting: "connecting…", offline: "not available",
};

// Her name, kept when the page has seen her set up for this login: on the next visit the
// conversation opens at once, before the server has confirmed it (it always has, short of
// a reset server), and what is typed meanwhile waits for the history.
const KNOWN = "os1.her-name";

let conversation = null;
let herName = "";
let lastSeen = 0; // the newest stored message id shown
let oldest = null; // the oldest shown, for paging back
let replying = null; // her reply being streamed: {item, body}
let waiting = []; // messages typed before a failed start: sent by the next conversation
let voiceOn = false;
let voiceState = "idle"; // the voice session's last state, shown while voice is on
let voice = null;

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

function setState(state) {
  const box = $("state");
  box.dataset.state = state;
  $("state-text").textContent = STATE_TEXT[state] || state;
  document.body.dataset.state = state;
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== `view-${view}`;
  }
  for (const button of document.querySelectorAll("#nav [data-view]")) {
    if (button.dataset.view === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  if (view === "her") loadHer();
  if (view === "memories") searchMemories();
}

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

// -- accounts ---------------------------------------------------------------------------

async function logIn(username, password) {
  const login = await api("POST", "/api/sessions", { username, password });
  setToken(login.token);
  await enter();
}

function bindAuth() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    try {
      await logIn($("login-username").value.trim(), $("login-password").value);
    } catch (error) {
      notice(error.message);
    }
  });
  $("signup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    const username = $("signup-username").value.trim();
    const password = $("signup-password").value;
    try {
      await api("POST", "/api/accounts", { username, password,
        display_name: $("signup-display").value.trim() });
      await logIn(username, password);
    } catch (error) {
      notice(error.message);
    }
  });
  $("log-out").addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/sessions/current");
    } catch {
      // gone already
    }
    leave();
  });
}

function leave(message) {
  if (conversation) conversation.close();
  conversation = null;
  stopVoice();
  setToken(null);
  localStorage.removeItem(KNOWN);
  waiting = []; // never sent as whoever logs in next
  $("log").replaceChildren();
  $("nav").hidden = true;
  $("her-name").textContent = "";
  setState("offline");
  $("state").hidden = true; // nothing to be connected to until you log in
  show("auth");
  notice(message || "");
  $("login-username").focus();
}

async function enter() {
  $("state").hidden = false;
  // Most people are set up: the history and the WebSocket login start with the setup
  // read, not after it, and are dropped if she still has to be set up.
  const history = api("GET", "/api/history?limit=50");
  history.catch(() => {}); // its failure is the setup read's to report
  connect();
  const known = localStorage.getItem(KNOWN);
  if (known) openTalk(known);
  let setup;
  try {
    setup = await api("GET", "/api/setup");
  } catch (error) {
    waiting = conversation.queue;
    conversation.close();
    conversation = null;
    if (error instanceof ApiError && error.status === 401) return leave();
    notice(`${error.message} Trying again…`);
    setState("offline");
    setTimeout(enter, 3000);
    return;
  }
  notice("");
  if (!setup.done) {
    localStorage.removeItem(KNOWN);
    if (conversation.queue.length) notice("She isn't set up yet: your message wasn't sent.");
    conversation.close();
    conversation = null;
    return startSetup(setup);
  }
  localStorage.setItem(KNOWN, setup.companion_name);
  openTalk(setup.companion_name);
  try {
    await loadHistory(history);
  } catch (error) {
    notice(`The conversation so far couldn't be read: ${error.message}`);
  } finally {
    if (conversation) conversation.release();
  }
}

// The conversation view with the message box enabled. A message sent before the history
// is shown waits in the conversation's queue (shown as waiting, after the history), as
// it does while reconnecting, and goes once the history is in place.
function openTalk(name) {
  herName = name;
  $("her-name").textContent = herName;
  $("nav").hidden = false;
  if (document.body.dataset.view !== "talk") show("talk");
  $("message").disabled = false;
  $("send").disabled = false;
  if (!document.body.dataset.usable) performance.mark("os1:usable");
  document.body.dataset.usable = "1";
}

// -- first-run setup --------------------------------------------------------------------

function startSetup(setup) {
  show("setup");
  setState("idle");
  $("setup-voice-question").textContent = setup.voice_question;
  $("setup-welcome").textContent = setup.welcome;
  $("setup-thanks").textContent = setup.thank_you;
  const questions = $("setup-questions");
  questions.replaceChildren();
  for (const q of setup.questions) {
    const label = make("label", "", q.ask);
    label.htmlFor = `setup-${q.key}`;
    const input = make("input");
    input.id = `setup-${q.key}`;
    input.name = q.key;
    input.maxLength = 500;
    if (q.key === "name") {
      input.required = true;
      input.autocomplete = "given-name";
    }
    questions.append(label, input);
  }
  const voices = $("setup-voices");
  for (const old of voices.querySelectorAll(".choice")) old.remove();
  for (const v of setup.voices) {
    const wrap = make("label", "choice");
    const radio = make("input");
    radio.type = "radio";
    radio.name = "voice";
    radio.value = v;
    radio.checked = v === setup.default_voice;
    wrap.append(radio, document.createTextNode(` ${v}`));
    voices.append(wrap);
  }
  $("setup-form").hidden = false;
  $("setup-wait").hidden = true;
  $("setup-done").hidden = true;
  $(`setup-${setup.questions[0].key}`).focus();
}

function bindSetup() {
  $("setup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    const answers = {};
    for (const input of $("setup-questions").querySelectorAll("input")) {
      if (input.value.trim()) answers[input.name] = input.value.trim();
    }
    const chosen = document.querySelector("#setup-voices input:checked");
    $("setup-form").hidden = true;
    $("setup-wait").hidden = false;
    setState("thinking");
    try {
      const done = await api("POST", "/api/setup", { answers, voice: chosen ? chosen.value : "female" });
      $("setup-wait").hidden = true;
      $("setup-met").textContent = `Hello, I'm ${done.companion_name}.`;
      $("setup-reason").textContent = done.name_reason;
      $("setup-done").hidden = false;
      setState("idle");
      $("setup-start").focus();
    } catch (error) {
      $("setup-wait").hidden = true;
      $("setup-form").hidden = false;
      setState("offline");
      notice(error.message);
    }
  });
  $("setup-start").addEventListener("click", () => enter());
}

// -- the conversation -------------------------------------------------------------------

function bubble(role, text, extra) {
  const item = make("li", `msg ${role}${extra ? ` ${extra}` : ""}`);
  const who = make("span", "sr-only", role === "user" ? "You: " : `${herName || "She"}: `);
  const body = make("p", "body", text);
  item.append(who, body);
  return { item, body };
}

function renderMessage(m, where = "end") {
  const { item } = bubble(m.role, m.content, m.status !== "complete" ? m.status : "");
  item.dataset.id = String(m.id);
  item.title = when(m.created_at);
  const log = $("log");
  if (where === "start") log.prepend(item);
  else log.append(item);
  lastSeen = Math.max(lastSeen, m.id);
  if (oldest === null || m.id < oldest) oldest = m.id;
}

// What scrolls the conversation: the log itself on a desktop, the whole page on a phone
// (where the log grows and the header and composer stay put).
function scroller() {
  const log = $("log");
  return log.scrollHeight > log.clientHeight ? log : document.scrollingElement;
}

function scrollDown() {
  const box = scroller();
  box.scrollTop = box.scrollHeight;
}

async function loadHistory(pending = api("GET", "/api/history?limit=50")) {
  const messages = await pending;
  $("log").replaceChildren(...$("log").querySelectorAll(".msg.reminder")); // not stored
  oldest = null;
  for (const m of messages) renderMessage(m);
  for (const item of conversation ? conversation.queue : []) $("log").append(item.local.item);
  $("earlier").hidden = messages.length < 50;
  scrollDown();
  return messages;
}

async function loadEarlier() {
  if (oldest === null) return;
  const messages = await api("GET", `/api/history?limit=50&before=${oldest}`);
  const box = scroller();
  const before = box.scrollHeight;
  for (const m of [...messages].reverse()) renderMessage(m, "start");
  $("earlier").hidden = messages.length < 50;
  box.scrollTop += box.scrollHeight - before; // the reader stays where they were
}

function connect() {
  if (conversation) conversation.close();
  const current = new Conversation({
    token: token(),
    onState: (state) => {
      if (conversation !== current) return; // one closed since: its "offline" is stale
      if (state === "reconnecting" && replying) { // cut off: the history will tell
        replying.item.classList.replace("streaming", "interrupted");
        replying = null;
      }
      // In voice mode the voice's state is shown, but a conversation away is too; and
      // once it is back (which may be after the voice is), the voice's state again.
      if (!voiceOn || state === "reconnecting") setState(state);
      else if (state === "listening") setState(voiceState);
    },
    onReady: async (frame, again) => {
      if (frame.companion) {
        herName = frame.companion;
        $("her-name").textContent = herName;
      }
      if (again) await resync();
    },
    onAccepted: (item, id) => {
      if (!item) return;
      item.local.item.classList.remove("pending");
      if (id) {
        item.local.item.dataset.id = String(id);
        lastSeen = Math.max(lastSeen, id);
        replying = bubble("assistant", "", "streaming");
        $("log").append(replying.item);
        scrollDown();
      }
    },
    onPiece: (text) => {
      if (!replying || !replying.body.textContent) performance.mark("os1:first-piece");
      appendPiece(text);
    },
    onDone: (frame) => {
      if (replying) settleReply(replying, frame);
      replying = null;
    },
    onError: (frame, item) => {
      if (item && !["busy", "unavailable", "failed"].includes(frame.code)) {
        item.local.item.classList.add("failed");
      }
      if (replying && !replying.body.textContent) replying.item.remove();
      replying = null;
      notice(frame.message);
    },
    onUnauthorised: (message) => leave(message),
    onReminder: (text) => {
      const { item } = bubble("assistant", text, "reminder");
      $("log").append(item);
      scrollDown();
      if (voiceOn && voice) voice.say(text); // someone listening may not be looking
    },
  });
  current.queue.push(...waiting);
  waiting = [];
  conversation = current;
  conversation.open();
}

// A piece of her reply, into the reply being streamed (a new one if there is none).
function appendPiece(text) {
  if (!replying) {
    replying = bubble("assistant", "", "streaming");
    $("log").append(replying.item);
  }
  replying.body.textContent += text;
  scrollDown();
}

// Back after a lost connection: what the server stored is the truth.
async function resync() {
  const known = lastSeen;
  replying = null;
  try {
    const messages = await loadHistory();
    const arrived = messages.filter((m) => m.id > known && m.role === "user" && m.client_id)
      .map((m) => m.client_id);
    conversation.reconcile(arrived);
  } catch {
    conversation.reconcile([]);
  }
}

function bindTalk() {
  const box = $("message");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text || !conversation) return;
    notice("");
    const local = bubble("user", text, "pending");
    $("log").append(local.item);
    scrollDown();
    box.value = "";
    conversation.send(text, local);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("earlier").addEventListener("click", () => loadEarlier().catch((e) => notice(e.message)));
  $("voice-toggle").addEventListener("click", toggleVoice);
}

// -- voice (the module is built separately: /static/voice.js) ---------------------------

async function toggleVoice() {
  const button = $("voice-toggle");
  if (voiceOn) {
    stopVoice();
    return;
  }
  try {
    voice = await import("/static/voice.js");
  } catch {
    notice("Voice isn't available here yet: this os1 has no voice mode in the browser.");
    return;
  }
  let heard = null;
  try {
    voiceOn = true;
    button.setAttribute("aria-pressed", "true");
    await voice.startVoice({
      token: token(),
      onState: (state) => {
        voiceState = state;
        setState(state);
      },
      onHeard: (text) => {
        heard = bubble("user", text);
        $("log").append(heard.item);
        replying = bubble("assistant", "", "streaming");
        $("log").append(replying.item);
        scrollDown();
      },
      onReply: appendPiece,
      onDone: (frame) => {
        if (replying) settleReply(replying, frame);
        replying = null;
        heard = null;
      },
      onError: (message, frame) => {
        if (replying && !replying.body.textContent) replying.item.remove();
        else if (replying) replying.item.classList.replace("streaming", "interrupted");
        replying = null;
        if (heard && ["busy", "unavailable"].includes(frame.code)) {
          // not stored (all busy, or her model still loading after a restart): his words
          // go as a typed message, which waits its turn
          heard.item.classList.add("pending");
          conversation.send(heard.body.textContent, heard);
        }
        heard = null;
        notice(message);
      },
    });
  } catch (error) {
    stopVoice();
    notice(`Voice couldn't start: ${error.message || error}`);
  }
}

// Her reply as it ended (a "done" frame, typed or spoken). A spoken reply cut off was heard
// only up to a point, and that is what is stored and what the page shows (the frame's
// "said"); cut off before a word, there is nothing of hers to show.
function settleReply(reply, frame) {
  reply.item.classList.remove("streaming");
  if (frame.status !== "complete") reply.item.classList.add(frame.status);
  if (typeof frame.said === "string") {
    if (!frame.said) {
      reply.item.remove();
      return;
    }
    reply.body.textContent = frame.said;
  }
  if (frame.message_id) {
    reply.item.dataset.id = String(frame.message_id);
    lastSeen = Math.max(lastSeen, frame.message_id);
  }
}

function stopVoice() {
  if (voiceOn && voice) {
    try {
      voice.stopVoice();
    } catch {
      // already stopped
    }
  }
  voiceOn = false;
  $("voice-toggle").setAttribute("aria-pressed", "false");
  if (conversation && conversation.ready) setState("listening");
}

// -- her ----------------------------------------------------------------------------------

async function loadHer() {
  try {
    const [setup, mood, history, selves] = await Promise.all([
      api("GET", "/api/setup"), api("GET", "/api/mood"), api("GET", "/api/mood/history"),
      api("GET", "/api/self/history")]);
    $("her-who").textContent = `${setup.companion_name}`;
    $("her-reason").textContent = setup.name_reason;
    $("her-voice").textContent = setup.voice ? `Her voice: ${setup.voice}` : "";
    $("mood-now").textContent = `She feels ${mood.feeling} with you now.`;
    moodChart($("mood-chart"), history);
    const now = selves[selves.length - 1];
    const self = $("self-now");
    self.replaceChildren();
    for (const aspect of ["traits", "interests", "opinions", "wants"]) {
      if (!now[aspect].length) continue;
      self.append(make("dt", "", aspect), make("dd", "", now[aspect].join(" · ")));
    }
    const growth = $("growth");
    growth.replaceChildren();
    for (const v of [...selves].reverse()) {
      const item = make("li", "version");
      item.append(make("p", "when muted", when(v.created_at)), make("p", "why", v.reason));
      if (v.changes.length) {
        const list = make("ul", "changes");
        for (const c of v.changes) list.append(make("li", c.startsWith("+") ? "added" : "removed", c));
        item.append(list);
      }
      growth.append(item);
    }
  } catch (error) {
    notice(error.message);
  }
}

// -- memories -----------------------------------------------------------------------------

let searches = 0; // the latest search asked for: an older answer arriving late is dropped

async function searchMemories() {
  const query = $("memory-query").value;
  const asked = ++searches;
  try {
    const found = await api("POST", "/api/memories/search", { query, limit: 50 });
    if (asked !== searches) return;
    const list = $("memory-list");
    list.replaceChildren();
    for (const m of found) list.append(memoryItem(m));
    $("memory-count").textContent = found.length
      ? `${found.length} ${found.length === 1 ? "memory" : "memories"}${query.trim() ? " found" : ""}.`
      : (query.trim() ? "Nothing found." : "She doesn't remember anything about you yet.");
  } catch (error) {
    notice(error.message);
  }
}

function memoryItem(m) {
  const item = make("li", "memory card");
  item.dataset.id = String(m.id);
  const text = make("p", "content", m.content);
  const meta = make("p", "muted", `${m.kind} · ${when(m.created_at)}`);
  const actions = make("div", "actions");
  const source = make("button", "quiet", "Source");
  const edit = make("button", "quiet", "Edit");
  const forget = make("button", "quiet danger", "Forget");
  for (const b of [source, edit, forget]) b.type = "button";
  source.setAttribute("aria-expanded", "false");
  source.setAttribute("aria-label", `Where this came from: ${m.content}`);
  edit.setAttribute("aria-label", `Edit: ${m.content}`);
  forget.setAttribute("aria-label", `Forget: ${m.content}`);
  actions.append(source, edit, forget);
  const detail = make("div", "detail");
  detail.hidden = true;
  item.append(text, meta, actions, detail);

  source.addEventListener("click", async () => {
    if (!detail.hidden) {
      detail.hidden = true;
      source.setAttribute("aria-expanded", "false");
      return;
    }
    try {
      const found = await api("GET", `/api/memories/${m.id}/sources`);
      detail.replaceChildren();
      if (found.messages.length) {
        detail.append(make("p", "muted", "From what was said:"));
        for (const s of found.messages) {
          const quote = make("blockquote", `said ${s.role}`, s.content);
          detail.append(quote, make("p", "muted", `${s.role === "user" ? "You" : herName} · ${when(s.created_at)}`));
        }
      }
      if (found.derived_from.length) {
        detail.append(make("p", "muted", "Concluded from:"));
        const list = make("ul");
        for (const d of found.derived_from) list.append(make("li", "", d.content));
        detail.append(list);
      }
      if (found.versions.length > 1) {
        detail.append(make("p", "muted", "Earlier versions:"));
        const list = make("ul");
        for (const v of found.versions.slice(0, -1)) list.append(make("li", "", v.content));
        detail.append(list);
      }
      if (!detail.childElementCount) detail.append(make("p", "muted", "No source kept."));
      detail.hidden = false;
      source.setAttribute("aria-expanded", "true");
    } catch (error) {
      notice(error.message);
    }
  });

  edit.addEventListener("click", () => {
    const form = make("form", "edit stack");
    const label = make("label", "sr-only", "Corrected memory");
    const area = make("textarea");
    area.id = `edit-${m.id}`;
    label.htmlFor = area.id;
    area.value = m.content;
    area.maxLength = 2000;
    const save = make("button", "primary", "Save");
    save.type = "submit";
    const cancel = make("button", "quiet", "Cancel");
    cancel.type = "button";
    const row = make("div", "actions");
    row.append(save, cancel);
    form.append(label, area, row);
    text.replaceWith(form);
    actions.hidden = true;
    area.focus();
    cancel.addEventListener("click", () => {
      form.replaceWith(text);
      actions.hidden = false;
      edit.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const fresh = await api("PATCH", `/api/memories/${m.id}`, { content: area.value.trim() });
        const replacement = memoryItem(fresh);
        item.replaceWith(replacement);
        replacement.querySelector("button").focus();
        $("memory-count").textContent = "Corrected.";
      } catch (error) {
        notice(error.message);
      }
    });
  });

  forget.addEventListener("click", () => {
    if (forget.dataset.confirm !== "1") {
      forget.dataset.confirm = "1";
      forget.textContent = "Forget for good?";
      return;
    }
    api("DELETE", `/api/memories/${m.id}`).then(() => {
      item.remove();
      $("memory-count").textContent = "Forgotten.";
      $("memory-query").focus();
    }, (error) => notice(error.message));
  });
  return item;
}

// -- start ----------------------------------------------------------------------------------

function main() {
  bindAuth();
  bindSetup();
  bindTalk();
  for (const button of document.querySelectorAll("#nav [data-view]")) {
    button.addEventListener("click", () => show(button.dataset.view));
  }
  $("memory-search").addEventListener("submit", (event) => {
    event.preventDefault();
    searchMemories();
  });
  $("message").disabled = true;
  $("send").disabled = true;
  setState("offline");
  if (token()) enter();
  else {
    $("state").hidden = true;
    show("auth");
    $("login-username").focus();
  }
}

main();
