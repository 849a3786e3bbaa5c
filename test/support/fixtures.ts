import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** Real trained models shipped by npm packages installed as devDependencies. */
export const REAL_MODELS = {
  sileroV5: path.join(root, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'),
  sileroV6: path.join(root, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v6.onnx'),
  sileroLegacy: path.join(root, 'node_modules/@ricky0123/vad-web/dist/silero_vad_legacy.onnx'),
  helloDeepa: path.join(root, 'node_modules/openwakeword-js/models/hello_deepa.onnx'),
  namasteDeepa: path.join(root, 'node_modules/openwakeword-js/models/namaste_deepa.onnx'),
} as const;

export const REPO_ROOT = root;

/** Debian's python3 with its python3-onnx package (not a pyenv or venv python). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
