import { strict as assert } from 'node:assert';
import { modelToText, OnnxModel } from '../../src/core';
import { REAL_MODELS } from '../support/fixtures';
import { attr, DataType, floatTensor, graph, model, node, valueInfo } from '../support/model-builder';

describe('text view', () => {
  it('prints one line per node, subgraphs indented, and knows which node each line shows', () => {
    const branch = graph({ name: 'then_body', nodes: [node('Relu', ['x'], ['r'], [], 'inner_relu')], outputs: [valueInfo('r', DataType.FLOAT, [2])] });
    const lines = modelToText(model(graph({
      name: 'g',
      nodes: [
        node('Gemm', ['x', 'W'], ['y'], [attr.int('transB', 1)], 'fc'),
        node('If', ['c'], ['z'], [attr.graph('then_branch', branch), attr.graph('else_branch', branch)], 'branch'),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, ['N', 2])], outputs: [valueInfo('y', DataType.FLOAT, ['N', 2])],
      initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4])],
    })));
    const fc = lines.find((line) => line.node?.label === 'fc');
    assert.equal(fc?.text, '  y = Gemm <transB: int = 1> (x, W)');
    assert.deepEqual(lines.filter((line) => line.node?.label === 'inner_relu').map((line) => line.node?.scope),
      ['main/branch.then_branch', 'main/branch.else_branch']);
    assert.ok(lines.some((line) => line.text === '  <float32[2,2] W>'));
  });

  it('keeps hostile names on one quoted line', () => {
    const lines = modelToText(model(graph({ nodes: [node('Relu', ['a\nb'], ['<img src=x onerror=alert(1)>'], [], 'evil')] })));
    const line = lines.find((entry) => entry.node?.label === 'evil')!;
    assert.equal(line.text, '  "<img src=x onerror=alert(1)>" = Relu ("a b")');
  });

  it('covers every node of a real model', async () => {
    const silero = await OnnxModel.open(REAL_MODELS.sileroV5);
    assert.equal(modelToText(silero.proto).filter((line) => line.node).length, silero.overview().nodeCount);
  });
});
