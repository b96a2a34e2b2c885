// AudioWorklet processor: collects the microphone's PCM (mixed to mono) and posts it to the page
// in blocks; on "flush" it posts what is left and {done: true}.
const BLOCK = 8192;

class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = new Float32Array(BLOCK);
    this.filled = 0;
    this.port.onmessage = (event) => {
      if (event.data === "flush") {
        this.port.postMessage({ samples: this.buffer.slice(0, this.filled), done: true });
        this.filled = 0;
      }
    };
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (const channel of channels) sum += channel[i];
      this.buffer[this.filled++] = sum / channels.length;
      if (this.filled === BLOCK) {
        this.port.postMessage({ samples: this.buffer.slice(), done: false });
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
