import { strict as assert } from 'node:assert';
import {
  dequantize, floatToFloat16Bits, quantizeBlockwise, quantizePerChannel, quantizePerTensor, roundToFloat16, sqnrDb,
} from '../../src/core/quant/quantize-math';

describe('quantization arithmetic', () => {
  it('per-tensor int8 maps max|w| to 127 and rounds to nearest', () => {
    const q = quantizePerTensor(Float32Array.of(-2, 1, 0.5, 0.0078125));
    assert.equal(q.scales[0], Math.fround(2 / 127));
    assert.deepEqual(Array.from(q.values), [-127, 64, 32, 0]);
  });

  it('rounds halves to even, as ONNX Runtime does', () => {
    assert.deepEqual(Array.from(quantizePerTensor(Float32Array.of(127, 2.5, -2.5, 3.5, -3.5)).values), [127, 2, -2, 4, -4]);
  });

  it('per-channel int8 gives each index along the axis its own scale', () => {
    // [2, 3] with channels on axis 1: columns have max |w| 4, 1, 0.
    const values = Float32Array.of(4, -1, 0, -2, 0.5, 0);
    const q = quantizePerChannel(values, [2, 3], 1);
    assert.deepEqual(Array.from(q.scales), [Math.fround(4 / 127), Math.fround(1 / 127), 1]);
    assert.deepEqual(Array.from(q.values), [127, -127, 0, -64, 64, 0]);
    assert.deepEqual(Array.from(dequantize(q, [2, 3], { axis: 1 })).map((v) => +v.toFixed(3)), [4, -1, 0, -2.016, 0.504, 0]);
  });

  it('block-wise int4 gives each block along the axis its own scale', () => {
    // [5, 1], blocks of 2 along axis 0: blocks {1, -7}, {0.5, 0.25}, {3}; 0.25 / (0.5 / 7) falls just below 3.5 in float32.
    const q = quantizeBlockwise(Float32Array.of(1, -7, 0.5, 0.25, 3), [5, 1], 0, 2);
    assert.deepEqual(Array.from(q.scales), [1, Math.fround(0.5 / 7), Math.fround(3 / 7)]);
    assert.deepEqual(Array.from(q.values), [1, -7, 7, 3, 7]);
    assert.deepEqual(Array.from(dequantize(q, [5, 1], { axis: 0, blockSize: 2 })).map((v) => +v.toFixed(4)), [1, -7, 0.5, 0.2143, 3]);
  });

  it('rounds to float16 with ties to even, subnormals and overflow', () => {
    assert.equal(floatToFloat16Bits(1), 0x3c00);
    assert.equal(floatToFloat16Bits(-2), 0xc000);
    assert.equal(floatToFloat16Bits(65504), 0x7bff);
    assert.equal(floatToFloat16Bits(65520), 0x7c00, 'halfway to the next power rounds up to infinity');
    assert.equal(floatToFloat16Bits(2 ** -24), 0x0001);
    assert.equal(floatToFloat16Bits(1 + 2 ** -11), 0x3c00, 'a tie goes to the even mantissa');
    assert.equal(floatToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.deepEqual(Array.from(roundToFloat16(Float32Array.of(0.1))), [Math.fround(0.0999755859375)]);
  });

  it('SQNR is 10·log10 of signal over noise energy', () => {
    assert.equal(sqnrDb(Float32Array.of(3, 4), Float32Array.of(3, 4)), Infinity);
    assert.equal(sqnrDb(Float64Array.of(10, 0), Float64Array.of(9, 0)), 20);
  });
});
