// The microphone for os1's voice mode, in the audio thread: mixed to mono, brought down
// from the AudioContext's rate to 16 kHz (each output sample the mean of the input
// samples it covers, which also keeps out what 16 kHz can't hold), as 16-bit integers,
// posted to the page 1,024 samples (64 ms) at a time. Loaded by voice.js with
// audioWorklet.addModule from this origin, so the page's CSP (script-src 'self') allows it.

const TARGET_RATE = 16000;
const FRAME = 1024;

class Os1Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.position = 0;
    this.sum = 0;
    this.count = 0;
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const length = input[0].length;
    for (let i = 0; i < length; i++) {
      let value = 0;
      for (let c = 0; c < channels; c++) value += input[c][i];
      this.sum += value / channels;
      this.count += 1;
      this.position += 1;
      if (this.position >= this.step) {
        this.position -= this.step;
        this.emit(this.sum / this.count);
        this.sum = 0;
        this.count = 0;
      }
    }
    return true;
  }

  emit(sample) {
    const clamped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = clamped < 0 ? clamped * 32768 : clamped * 32767;
    if (this.filled === FRAME) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME);
      this.filled = 0;
    }
  }
}

registerProcessor("os1-capture", Os1Capture);
