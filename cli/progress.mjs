// @ts-check
// Showing that something is happening while the CLI waits, on stderr so stdout stays the result.
// On a terminal: one spinner line rewritten in place. Elsewhere (CI logs, pipes): a plain line
// when the state changes and now and then while it does not, since "\r" would pile up there.

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;
const PLAIN_EVERY_MS = 10_000;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * @param {{ stream: { write(text: string): unknown, isTTY?: boolean }, now?: () => number }} options
 */
export function startProgress({ stream, now = Date.now }) {
  const started = now();
  let text = '';
  let lastPlain = 0;
  let frame = 0;
  let stopped = false;
  const seconds = () => Math.floor((now() - started) / 1000);

  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  if (stream.isTTY) {
    const render = () => stream.write(`${CLEAR_LINE}${FRAMES[frame++ % FRAMES.length]} ${text}  ${seconds()}s`);
    timer = setInterval(render, FRAME_MS);
    // The spinner must never be what keeps the process alive.
    timer.unref();
  } else {
    timer = setInterval(() => {
      if (now() - lastPlain >= PLAIN_EVERY_MS) plain();
    }, 1000);
    timer.unref();
  }

  function plain() {
    lastPlain = now();
    stream.write(`${text} (${seconds()} s)\n`);
  }

  return {
    /** @param {string} next  what is going on, e.g. "task 3b66… PENDING" */
    set(next) {
      if (stopped || next === text) return;
      text = next;
      if (!stream.isTTY) plain();
    },
    /**
     * A line of its own (a retry, a warning); on a terminal the spinner resumes below it.
     * @param {string} line
     */
    note(line) {
      stream.write(`${stream.isTTY ? CLEAR_LINE : ''}${line}\n`);
    },
    /** Clears the spinner line, so what follows starts on a clean line. */
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (stream.isTTY) stream.write(CLEAR_LINE);
    },
  };
}

/** @typedef {ReturnType<typeof startProgress>} Progress */
