import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeModel, encodeModel, OnnxModel } from '../../src/core';
import { DEBIAN_PYTHON, REAL_MODELS, REPO_ROOT } from '../support/fixtures';

const FLOAT_NAMES = new Set(['float32', 'float16', 'float64', 'bfloat16']);

function independentFloatCount(modelPath: string): { tensors: number; parameters: number } {
  const script = path.join(REPO_ROOT, 'test/support/count_weights.py');
  return JSON.parse(execFileSync(DEBIAN_PYTHON, [script, modelPath], { encoding: 'utf8' }));
}

describe('real trained models', () => {
  for (const [label, modelPath] of Object.entries(REAL_MODELS)) {
    describe(label, () => {
      it('re-encodes to the identical bytes', () => {
        const bytes = readFileSync(modelPath);
        assert.ok(Buffer.from(encodeModel(decodeModel(bytes))).equals(bytes), 'encode(decode(file)) differs from the file');
      });

      it('finds every float weight the onnx package finds', async () => {
        const model = await OnnxModel.open(modelPath);
        const floats = model.weights().filter((weight) => FLOAT_NAMES.has(weight.tensor.dataType.name));
        const expected = independentFloatCount(modelPath);
        assert.equal(floats.length, expected.tensors);
        assert.equal(floats.reduce((total, weight) => total + weight.elementCount, 0), expected.parameters);
      });

      it('reads every weight and knows who uses it', async () => {
        const model = await OnnxModel.open(modelPath);
        for (const weight of model.weights()) {
          assert.equal((await weight.tensor.values()).length, weight.elementCount, weight.id);
          if (weight.tensor.dataType.isFloat) assert.ok(weight.uses.length > 0 || weight.dequantization, `${weight.id} has no consumer`);
        }
      });
    });
  }

  it('silero v5 keeps its weights inside If subgraphs and finds the Conv layers there', async () => {
    const model = await OnnxModel.open(REAL_MODELS.sileroV5);
    const subgraphFloats = model.weights().filter((w) => w.scope !== 'main' && w.tensor.dataType.name === 'float32');
    assert.equal(subgraphFloats.length, 34);
    const convLayers = model.layers().filter((layer) => layer.node.opType === 'Conv');
    assert.ok(convLayers.length >= 8, `expected Conv layers in both branches, found ${convLayers.length}`);
    for (const layer of convLayers) {
      assert.ok(layer.node.scope.includes('/If_0.'), layer.node.scope);
      assert.ok(layer.weights.some((entry) => entry.inputIndex === 1), `${layer.node.label} has no weight in slot 1`);
    }
  });

  it('silero legacy LSTM weights are found with their LSTM node', async () => {
    const model = await OnnxModel.open(REAL_MODELS.sileroLegacy);
    const lstmLayers = model.layers().filter((layer) => layer.node.opType === 'LSTM');
    assert.ok(lstmLayers.length > 0);
    for (const layer of lstmLayers) {
      const weightAt = (slot: number) => layer.weights.find((entry) => entry.inputIndex === slot)?.weight;
      assert.equal(weightAt(1)?.dims.length, 3, `${layer.node.label}: W (slot 1) should be [directions, 4*hidden, input]`);
      assert.equal(weightAt(2)?.dims.length, 3, `${layer.node.label}: R (slot 2) should be [directions, 4*hidden, hidden]`);
    }
  });
});
