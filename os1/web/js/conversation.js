// The WebSocket conversation, kept alive: it reconnects by itself with backoff, logs in
// again, and sends each message exactly once. Each message carries a client_id of its own:
// it is ours to resend until the server's "accepted" frame says it is stored, and after a
// reconnection the caller re-reads /api/history, whose client_ids say which of the
// messages in flight arrived (a message sent again under its id is never stored twice).

const BACKOFF_MS = [300, 700, 1500, 3000, 5000, 8000];

export class Conversation {
  constructor({ token, onState, onReady, onAccepted, onPiece, onDone, onError, onUnauthorised,
                onReminder }) {
    this.token = token;
    this.on = { onState, onReady, onAccepted, onPiece, onDone, onError, onUnauthorised,
                onReminder };
    this.queue = []; // {text, local} not yet accepted, oldest first
    this.inFlight = null; // sent, waiting for "accepted"
    this.turn = false; // a reply under way
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.closed = false;
    this.timer = null;
    this.held = true; // nothing is sent until release(): the page shows the history first
  }

  open() {
    this.closed = false;
    this._connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  release() {
    this.held = false;
    this._flush();
  }

  send(text, local) {
    this.queue.push({ text, local, id: clientId() });
    this._flush();
  }

  // The history says what the server has: a message there already (a lost "accepted")
  // is not sent again.
  reconcile(storedClientIds) {
    const stored = new Set(storedClientIds);
    for (const item of [...this.queue]) {
      if (!item.sent) continue;
      if (stored.has(item.id)) {
        this.queue.splice(this.queue.indexOf(item), 1);
        this.on.onAccepted(item, null);
      } else {
        item.sent = false; // it never arrived: send it now
      }
    }
    this._flush();
  }

  _connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.on.onState(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(`${scheme}//${location.host}/api/conversation`);
    this.ws = ws;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token: this.token })));
    ws.addEventListener("message", (event) => this._frame(JSON.parse(event.data)));
    ws.addEventListener("close", (event) => this._closed(event));
  }

  _frame(frame) {
    switch (frame.type) {
      case "ready": {
        const again = this.attempt > 0;
        this.attempt = 0;
        this.ready = true;
        this.turn = false;
        this.on.onState("listening");
        this.on.onReady(frame, again);
        if (!again) this._flush();
        break;
      }
      case "accepted": {
        const item = this.inFlight;
        this.inFlight = null;
        if (item) this.queue.splice(this.queue.indexOf(item), 1);
        this.on.onState("thinking");
        this.on.onAccepted(item, frame.message_id);
        break;
      }
      case "piece":
        this.on.onState("speaking");
        this.on.onPiece(frame.text);
        break;
      case "done":
        this.turn = false;
        this.on.onState("listening");
        this.on.onDone(frame);
        this._flush();
        break;
      case "error":
        this._error(frame);
        break;
      case "reminder": // an aside from her calendar, not part of any turn
        this.on.onReminder(frame.text);
        break;
      default:
        break;
    }
  }

  _error(frame) {
    if (frame.code === "unauthorised") {
      this.closed = true;
      this.on.onUnauthorised(frame.message);
      return;
    }
    const item = this.inFlight;
    this.inFlight = null;
    this.turn = false;
    this.on.onState("listening");
    // busy, or still loading after a restart ("unavailable"): not stored, so it waits
    // its turn again
    if (item && ["busy", "unavailable", "failed"].includes(frame.code)) {
      item.sent = false;
      const wait = 1000 * Math.max(1, frame.retry_after_s || 2);
      this.timer = setTimeout(() => this._flush(), wait);
    } else if (item) {
      this.queue.splice(this.queue.indexOf(item), 1);
    }
    this.on.onError(frame, item);
  }

  _flush() {
    if (this.held || !this.ready || this.inFlight || this.turn || !this.queue.length) return;
    const item = this.queue[0];
    if (item.sent) return; // waiting for the history to say whether it arrived
    item.sent = true;
    this.inFlight = item;
    this.turn = true;
    this.ws.send(JSON.stringify({ type: "message", text: item.text, client_id: item.id }));
  }

  _closed(event) {
    this.ready = false;
    this.inFlight = null;
    this.turn = false;
    if (this.closed || event.code === 4401) {
      this.on.onState("offline");
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.on.onState("reconnecting");
    this.timer = setTimeout(() => this._connect(), delay);
  }
}

// A key for one message: crypto.randomUUID() exists only in secure contexts (https or
// localhost), and a page on a home network may be neither.
function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
