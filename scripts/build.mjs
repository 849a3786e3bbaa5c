// Bundles every entry point into dist/ with esbuild. Worker threads and child
// processes started by the core are entry points of their own; the core finds
// them with src/core/util/bundled-script.ts.
import { build } from 'esbuild';

const node = { bundle: true, sourcemap: true, logLevel: 'warning', platform: 'node', format: 'cjs', target: 'node20' };

const entryPoints = [
  { in: 'src/cli/main.ts', out: 'cli', banner: { js: '#!/usr/bin/env node' } },
  { in: 'src/extension/extension.ts', out: 'extension' },
  { in: 'src/core/analysis/analysis-worker.ts', out: 'analysis-worker' },
  { in: 'src/core/runtime/ort-child.ts', out: 'ort-child' },
  { in: 'src/core/passes/quantize-worker.ts', out: 'quantize-worker' },
];

const webview = {
  bundle: true, sourcemap: true, logLevel: 'warning', platform: 'browser', format: 'iife', target: 'chrome114',
  entryPoints: ['webview/src/main.ts'], outfile: 'dist/webview/main.js',
};

await Promise.all([
  ...entryPoints.map((entry) => build({
    ...node,
    entryPoints: [entry.in],
    outfile: `dist/${entry.out}.js`,
    banner: entry.banner,
    // The editor API is provided by VS Code; ONNX Runtime's native addon ships beside the bundle.
    external: ['vscode', 'onnxruntime-node'],
  })),
  build(webview),
]);
