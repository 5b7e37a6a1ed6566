// "Ask her to read it over": reading a letter needs her model, which only a conversation
// turn may use, so the view sends her the request as a message over the conversation's
// WebSocket (the main page's own Conversation class, which reconnects and sends it exactly
// once) and resolves with what she said once her reply is done.
import { token } from "/static/js/api.js";
import { Conversation } from "/static/js/conversation.js";

export function readOverRequest(letterId) {
  return `Please read over letter ${letterId}.`;
}

export function askHer(text, { onPiece, onWaiting }) {
  return new Promise((resolve, reject) => {
    let said = "";
    const talk = new Conversation({
      token: token(),
      onState: () => {},
      onReady: (frame, again) => {
        // back after a lost connection: sent again under its key, never stored twice
        if (again) talk.reconcile([]);
      },
      onAccepted: () => {},
      onPiece: (piece) => {
        said += piece;
        onPiece(said);
      },
      onDone: (frame) => {
        talk.close();
        resolve(typeof frame.said === "string" ? frame.said : said);
      },
      onError: (frame) => {
        if (["busy", "unavailable", "failed"].includes(frame.code)) {
          onWaiting(frame.message); // the Conversation sends it again by itself
          return;
        }
        talk.close();
        reject(new Error(frame.message));
      },
      onUnauthorised: (message) => {
        talk.close();
        reject(Object.assign(new Error(message), { status: 401 }));
      },
      onReminder: () => {},
    });
    talk.open();
    talk.send(text, null);
    talk.release();
  });
}
