import { strict as assert } from 'node:assert';
import { analyzeValues, QuantizationEstimate } from '../../src/core';
import {
  dequantize, float16RoundTrip, quantizeBlockwise, quantizePerChannel, quantizePerTensor, roundToFloat16, sqnrDb, symmetricRoundTrip,
} from '../../src/core/quant/quantize-math';
import { float16BitsToNumber } from '../../src/core/tensor/float-formats';
import { randomFloats } from '../support/model-builder';

const bitsOf = (value: number) => new Uint32Array(Float32Array.of(value).buffer)[0];
const floatOfBits = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];

/** Symmetric quantize-then-dequantize written out plainly: scale = float32(max|w| / qmax), halves to even, clamp. */
function plainRoundTrip(values: ArrayLike<number>, groupOf: (index: number) => number, qmax: number): number[] {
  const maxAbs = new Map<number, number>();
  Array.from(values).forEach((v, i) => maxAbs.set(groupOf(i), Math.max(maxAbs.get(groupOf(i)) ?? 0, Math.abs(v))));
  return Array.from(values, (v, i) => {
    const m = maxAbs.get(groupOf(i))!;
    const scale = m > 0 ? Math.fround(m / qmax) : 1;
    const x = v / scale;
    const floor = Math.floor(x);
    const fraction = x - floor;
    let q = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
    q = Math.max(-qmax, Math.min(qmax, q));
    return Math.fround(q * scale);
  });
}

/** float16 rounding written out plainly: the spacing at |x|'s power of two, halves to even, overflow to infinity. */
function plainFloat16(value: number): number {
  const x = Math.fround(value);
  if (x === 0) return x;
  const exponent = Math.max(Math.floor(Math.log2(Math.abs(x))), -14);
  const spacing = 2 ** (exponent - 10);
  const scaled = x / spacing;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  const q = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  const rounded = q * spacing;
  return Math.abs(rounded) > 65504 ? Math.sign(rounded) * Infinity : rounded;
}

function plainSqnr(values: ArrayLike<number>, reconstructed: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < values.length; i++) {
    signal += values[i] ** 2;
    noise += (values[i] - reconstructed[i]) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

function assertDb(estimate: QuantizationEstimate | undefined, expected: number, label: string): void {
  assert.equal(estimate?.outcome, 'lossy', label);
  assert.ok(Math.abs(estimate!.sqnrDb! - expected) < 1e-9, `${label}: ${estimate!.sqnrDb} dB vs ${expected} dB`);
}

describe('weight analysis: quantizability', () => {
  describe('fused round trips in the shared quantization module', () => {
    it('symmetricRoundTrip is dequantize(quantize(w)) for one element, exact ties included, and clamps', () => {
      // A power-of-two scale makes every halfway value k + 0.5 steps exact in float32.
      const scale = 2 ** -8;
      const ties = Array.from({ length: 40 }, (_, k) => (k - 20 + 0.5) * scale);
      // The leading 127 · scale fixes the scale that quantizePerTensor chooses.
      const values = Float32Array.from([127 * scale, ...randomFloats(2000, 3, 0.49), ...ties, -127 * scale, 0]);
      assert.equal(quantizePerTensor(values).scales[0], scale);
      const reference = dequantize(quantizePerTensor(values), [values.length]);
      values.forEach((v, i) => assert.equal(symmetricRoundTrip(v, scale, 127), reference[i], `value ${v}`));
      assert.equal(symmetricRoundTrip(0.7, scale, 127), Math.fround(127 * scale));
      assert.equal(symmetricRoundTrip(-0.7, scale, 127), Math.fround(-127 * scale));
    });

    it('float16RoundTrip is roundToFloat16 for every float32 pattern sampled, and at every float16 halfway point', () => {
      const check = (bits: number) => {
        const value = floatOfBits(bits >>> 0);
        const expected = roundToFloat16(Float32Array.of(value))[0];
        const actual = float16RoundTrip(value, bits >>> 0);
        assert.ok(Object.is(actual, expected) || (actual === 0 && expected === 0) || (Number.isNaN(actual) && Number.isNaN(expected)),
          `bits 0x${(bits >>> 0).toString(16)}: ${actual} vs ${expected}`);
      };
      for (let bits = 0; bits < 2 ** 32; bits += 65521) check(bits);
      for (let half = 0; half < 0x7bff; half++) {
        const midpoint = (float16BitsToNumber(half) + float16BitsToNumber(half + 1)) / 2;
        for (const sign of [0, 0x80000000]) {
          for (const step of [-1, 0, 1]) check((bitsOf(midpoint) + step) | sign);
        }
      }
    });
  });

  describe('SQNR of each scheme, computed by doing it', () => {
    // A MatMul weight B [K, N]: output channels on axis 1, int4 blocks of 32 along K.
    const dims = [70, 6];
    const values = randomFloats(420, 81, 0.2);
    const figures = analyzeValues(values, dims, { channelAxis: 1, blockAxes: [0, 0] });
    const { quantization } = figures;

    it('int8 per tensor', () => {
      assertDb(quantization.int8PerTensor, plainSqnr(values, plainRoundTrip(values, () => 0, 127)), 'plain');
      assertDb(quantization.int8PerTensor, sqnrDb(values, dequantize(quantizePerTensor(values), dims)), 'shared module');
    });

    it('int8 per output channel', () => {
      assertDb(quantization.int8PerChannel, plainSqnr(values, plainRoundTrip(values, (i) => i % 6, 127)), 'plain');
      assertDb(quantization.int8PerChannel, sqnrDb(values, dequantize(quantizePerChannel(values, dims, 1), dims, { axis: 1 })), 'shared module');
    });

    it('int4 in blocks of 32 along the reduction axis', () => {
      const blockOf = (i: number) => Math.floor(Math.floor(i / 6) / 32) * 6 + (i % 6);
      assertDb(quantization.int4Block32, plainSqnr(values, plainRoundTrip(values, blockOf, 7)), 'plain');
      const shared = dequantize(quantizeBlockwise(values, dims, 0, 32), dims, { axis: 0, blockSize: 32 });
      assertDb(quantization.int4Block32, sqnrDb(values, shared), 'shared module');
    });

    it('float16', () => {
      assertDb(quantization.float16, plainSqnr(values, Array.from(values, plainFloat16)), 'plain');
      assertDb(quantization.float16, sqnrDb(values, roundToFloat16(values)), 'shared module');
    });

    it('states the size each scheme stores, scales included', () => {
      assert.equal(quantization.int8PerTensor.bytes, 420 + 4);
      assert.equal(quantization.int8PerChannel!.bytes, 420 + 6 * 4);
      assert.equal(quantization.int4Block32.bytes, 210 + 3 * 6 * 4);
      assert.equal(quantization.float16.bytes, 840);
    });

    it('runs int4 blocks through a Conv weight\'s input channels and kernel together', () => {
      // W [8, 3, 5, 5]: each output channel sums over 75 weights, so blocks of 32 run along that row of 75.
      const conv = randomFloats(600, 91, 0.3);
      const convFigures = analyzeValues(conv, [8, 3, 5, 5], { channelAxis: 0, blockAxes: [1, 3] });
      const blockOf = (i: number) => Math.floor(i / 75) * 3 + Math.floor((i % 75) / 32);
      assertDb(convFigures.quantization.int4Block32, plainSqnr(conv, plainRoundTrip(conv, blockOf, 7)), 'plain');
      const shared = dequantize(quantizeBlockwise(conv, [8, 75], 1, 32), [8, 75], { axis: 1, blockSize: 32 });
      assertDb(convFigures.quantization.int4Block32, sqnrDb(conv, shared), 'shared module');
    });
  });

  describe('outcomes and flags', () => {
    it('flags a layer whose per-tensor int8 loses more than 6 dB against per-channel', () => {
      const values = randomFloats(256, 101, 0.1);
      for (let i = 0; i < 256; i += 8) values[i] *= 100; // channel 0 of [32, 8] (channels on axis 1) dominates the range
      const { quantization } = analyzeValues(values, [32, 8], { channelAxis: 1, blockAxes: [0, 0] });
      assert.ok(quantization.perChannelGainDb! > 6, `gain ${quantization.perChannelGainDb}`);
      assert.equal(quantization.perChannelGainDb, quantization.int8PerChannel!.sqnrDb! - quantization.int8PerTensor.sqnrDb!);
      assert.equal(quantization.outlierChannels, true);
    });

    it('does not flag channels of similar range', () => {
      const { quantization } = analyzeValues(randomFloats(256, 102, 0.1), [32, 8], { channelAxis: 1, blockAxes: [0, 0] });
      assert.ok(quantization.perChannelGainDb! < 6);
      assert.equal(quantization.outlierChannels, false);
    });

    it('says lossless when the round trip is exact, and overflow when float16 cannot hold a value', () => {
      const integers = Float32Array.from({ length: 255 }, (_, i) => i - 127);
      const exact = analyzeValues(integers, [255]).quantization;
      assert.deepEqual([exact.int8PerTensor.outcome, exact.int8PerTensor.sqnrDb, exact.float16.outcome], ['lossless', null, 'lossless']);
      const large = analyzeValues(Float32Array.of(1, 70000), [2]).quantization;
      assert.deepEqual([large.float16.outcome, large.float16.sqnrDb], ['overflow', null]);
    });
  });
});
