// Compiles src/core/proto/onnx.proto with protobufjs into the generated codec
// (static module + type declarations) and a JSON descriptor used by the
// wire-format checker. Output lives in src/core/proto/generated (git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const proto = join(root, 'src/core/proto/onnx.proto');
const out = join(root, 'src/core/proto/generated');
const bin = (name) => join(root, 'node_modules/.bin', name);

mkdirSync(out, { recursive: true });
const codec = join(out, 'onnx.js');
execFileSync(bin('pbjs'), [
  '-t', 'static-module', '-w', 'commonjs', '--force-long',
  '--no-verify', '--no-convert', '--no-delimited', '--no-service',
  '-o', codec, proto,
], { stdio: 'inherit' });
execFileSync(bin('pbts'), ['--no-comments', '-o', join(out, 'onnx.d.ts'), codec], { stdio: 'inherit' });
execFileSync(bin('pbjs'), ['-t', 'json', '-o', join(out, 'onnx-descriptor.json'), proto], { stdio: 'inherit' });
