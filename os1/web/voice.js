// os1's voice mode in the browser: the microphone streamed to /api/voice, her voice played
// as it arrives. See os1/server/voice_ws.py for the protocol.
//
//   startVoice({token, onState, onHeard, onReply, onDone, onError(message, frame)})
//     -> Promise (rejects if the microphone or audio can't start); stopVoice();
//   say(text): she says it aloud between turns (a reminder), queued until connected.
//   onState gets "listening" | "thinking" | "speaking" | "idle" | "reconnecting".
//
// The microphone goes through an AudioWorklet (voice-worklet.js: 16 kHz mono int16) to the
// WebSocket on this page's own host. Her voice comes as binary int16 frames after a JSON
// {"type": "audio", "rate": N} header; each frame is scheduled right after the one before,
// so she is heard while she is still writing. When the server says she was cut off (state
// "listening" before her turn's "done") everything scheduled is stopped at once. A closed
// connection is opened again with growing pauses (state "reconnecting").
//
// window.os1Voice holds counters only (samples sent and received, her audio frames, the
// state, how often and how much of her scheduled voice was cut off, pieces playing now),
// for tests and curious people: never anything that was said.

const MAX_BACKLOG_BYTES = 256 * 1024; // a stalled connection drops mic audio, not memory
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10000;
const START_DELAY_S = 0.05; // the first frame of her voice starts this far ahead

const stats = { state: "idle", sentSamples: 0, receivedSamples: 0, audioFrames: 0,
                cutOffs: 0, cutSeconds: 0, playing: 0 };
window.os1Voice = stats;

let current = null;

export async function startVoice(options) {
  stopVoice();
  const session = new VoiceSession(options);
  current = session;
  try {
    await session.start();
  } catch (error) {
    session.stop();
    if (current === session) current = null;
    throw error;
  }
}

export function say(text) {
  if (current) current.say(text);
}

export function stopVoice() {
  if (current) {
    current.stop();
    current = null;
  }
}

const nothing = () => {};

class VoiceSession {
  constructor({ token, onState, onHeard, onReply, onDone, onError }) {
    this.token = token;
    this.onState = onState || nothing;
    this.onHeard = onHeard || nothing;
    this.onReply = onReply || nothing;
    this.onDone = onDone || nothing;
    this.onError = onError || nothing;
    this.stopped = false;
    this.ready = false;
    this.inTurn = false;
    this.saying = false; // speaking between turns (a "say"): cutting it off silences it
    this.toSay = [];
    this.rate = 0;
    this.nextTime = 0;
    this.playing = new Set();
    this.backoff = FIRST_BACKOFF_MS;
    this.retry = null;
    this.ws = null;
  }

  async start() {
    if (!navigator.mediaDevices || !window.AudioWorkletNode) {
      throw new Error("this browser can't record sound here (it needs https or localhost)");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true,
               autoGainControl: true },
    });
    if (this.stopped) return;
    this.context = new AudioContext({ latencyHint: "interactive" });
    await this.context.audioWorklet.addModule(new URL("./voice-worklet.js", import.meta.url));
    if (this.stopped) return;
    this.capture = new AudioWorkletNode(this.context, "os1-capture");
    this.capture.port.onmessage = (event) => this.sendAudio(event.data);
    this.microphone = this.context.createMediaStreamSource(this.stream);
    // The worklet must be part of a graph that reaches the speakers to be run; silently.
    this.mute = this.context.createGain();
    this.mute.gain.value = 0;
    this.microphone.connect(this.capture).connect(this.mute).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
    this.connect();
  }

  connect() {
    this.retry = null;
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/voice`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.token }));
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (ws === this.ws) this.closed(event);
    };
  }

  say(text) {
    this.toSay.push(text);
    this.flushSay();
  }

  flushSay() {
    const ws = this.ws;
    if (!this.ready || !ws || ws.readyState !== WebSocket.OPEN) return;
    for (const text of this.toSay.splice(0)) {
      ws.send(JSON.stringify({ type: "say", text }));
    }
  }

  sendAudio(buffer) {
    const ws = this.ws;
    if (!this.ready || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BACKLOG_BYTES) return;
    ws.send(buffer);
    stats.sentSamples += buffer.byteLength / 2;
  }

  receive(data) {
    if (typeof data !== "string") {
      this.play(data);
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "ready":
        this.ready = true;
        this.backoff = FIRST_BACKOFF_MS;
        this.flushSay();
        break;
      case "state":
        if (frame.state === "listening" && (this.inTurn || this.saying)) this.silence(); // cut off
        if (frame.state === "thinking") this.inTurn = true;
        if (frame.state === "speaking" && !this.inTurn) this.saying = true;
        this.setState(frame.state);
        break;
      case "heard":
        this.onHeard(frame.text);
        break;
      case "piece":
        this.onReply(frame.text);
        break;
      case "audio":
        this.rate = frame.rate;
        break;
      case "done":
        this.inTurn = false;
        this.onDone(frame);
        break;
      case "said":
        this.saying = false;
        break;
      case "unheard":
        this.inTurn = false;
        break;
      case "error":
        if (frame.code === "voice_unavailable" || frame.code === "unauthorised") {
          this.fatal = true;
        }
        this.inTurn = false;
        this.onError(frame.message || "Voice failed.", frame);
        break;
      default:
        break;
    }
  }

  play(buffer) {
    const samples = new Int16Array(buffer);
    if (!samples.length || !this.rate || !this.context) return;
    const audio = this.context.createBuffer(1, samples.length, this.rate);
    const channel = audio.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
    const source = this.context.createBufferSource();
    source.buffer = audio;
    source.connect(this.context.destination);
    const at = Math.max(this.nextTime, this.context.currentTime + START_DELAY_S);
    source.start(at);
    this.nextTime = at + audio.duration;
    this.playing.add(source);
    stats.playing = this.playing.size;
    source.onended = () => {
      this.playing.delete(source);
      stats.playing = this.playing.size;
    };
    stats.receivedSamples += samples.length;
    stats.audioFrames += 1;
  }

  silence() {
    if (this.playing.size && this.context) {
      stats.cutOffs += 1;
      stats.cutSeconds = Math.max(0, this.nextTime - this.context.currentTime);
    }
    for (const source of this.playing) {
      try {
        source.stop();
      } catch {
        // not started yet or already ended
      }
    }
    this.playing.clear();
    stats.playing = 0;
    this.nextTime = 0;
  }

  setState(state) {
    stats.state = state;
    this.onState(state);
  }

  closed(event) {
    this.ready = false;
    this.saying = false;
    this.silence();
    if (this.inTurn) {
      this.inTurn = false;
      this.onDone({ type: "done", status: "interrupted" });
    }
    if (this.stopped) return;
    if (this.fatal || event.code === 4401 || event.code === 1011) {
      this.setState("idle");
      return;
    }
    this.setState("reconnecting");
    this.retry = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000);
      } catch {
        // never opened
      }
    }
    this.silence();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    if (this.context) this.context.close().catch(nothing);
    this.setState("idle");
  }
}
