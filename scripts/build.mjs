// Bundles the extension host code, the CLI and the webview with esbuild.
import { build } from 'esbuild';

const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'node20' };

await Promise.all([
  build({ ...common, platform: 'node', format: 'cjs', entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' }, external: ['onnxruntime-node'] }),
]);
