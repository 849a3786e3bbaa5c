import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import { LAYER_ACTIONS, MAX_LAYER_ID_LENGTH, parseWebviewMessage, RequestKind, RequestMap } from '../../src/shared/protocol';

const LAYER_ID = 'main::conv1';

/** One well-formed params object per request kind: a kind added to the protocol without one here does not compile. */
const VALID_PARAMS: { readonly [K in RequestKind]: RequestMap[K]['params'] } = {
  'run-layer-action': { layerId: LAYER_ID, action: 'prune-sparsity', value: 0.5 },
  'select-layer': { layerId: LAYER_ID },
};

const request = (kind: unknown, params: unknown, id: unknown = 7) => ({ type: 'request', id, kind, params });
const layerAction = (params: Record<string, unknown>) => request('run-layer-action', { layerId: LAYER_ID, action: 'quantize-int8', ...params });

function assertRejected(message: unknown): void {
  assert.equal(parseWebviewMessage(message), undefined, `accepted ${inspect(message).slice(0, 200)}`);
}

/** The params of the parsed message, when it was accepted as a request. */
function parsedParams(message: unknown): Record<string, unknown> | undefined {
  const parsed = parseWebviewMessage(message);
  return parsed?.type === 'request' ? parsed.params : undefined;
}

describe('webview message validation', () => {
  describe('accepts', () => {
    it('ready', () => {
      assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    });

    for (const [kind, params] of Object.entries(VALID_PARAMS)) {
      it(`a ${kind} request`, () => {
        assert.deepEqual(parseWebviewMessage(request(kind, params)), { type: 'request', id: 7, kind, params });
      });
    }

    it('every layer action, with and without a value', () => {
      for (const action of LAYER_ACTIONS) {
        assert.deepEqual(parsedParams(layerAction({ action })), { layerId: LAYER_ID, action });
        assert.deepEqual(parsedParams(layerAction({ action, value: 0.25 })), { layerId: LAYER_ID, action, value: 0.25 });
      }
    });

    it('a value the webview left undefined, as an absent one', () => {
      assert.deepEqual(parsedParams(layerAction({ value: undefined })), { layerId: LAYER_ID, action: 'quantize-int8' });
    });

    it('any layer id up to the length limit as opaque text (the host looks it up; it never becomes markup)', () => {
      for (const layerId of ['<img src=x onerror=alert(1)>', '../../etc/passwd', 'a\u0000b', '\u202e::evil', '__proto__', 'x'.repeat(MAX_LAYER_ID_LENGTH)]) {
        assert.equal(parsedParams(request('select-layer', { layerId }))?.layerId, layerId);
      }
    });
  });

  describe('returns a fresh copy holding only the checked fields', () => {
    it('leaves extra fields, with whatever they hold, behind', () => {
      const sent = {
        ...request('run-layer-action', { layerId: LAYER_ID, action: 'measure', html: '<script>alert(1)</script>', path: '/etc/shadow' }),
        command: 'rm -rf /', extra: { nested: [1, 2, 3] },
      };
      const parsed = parseWebviewMessage(sent);
      assert.deepEqual(parsed, { type: 'request', id: 7, kind: 'run-layer-action', params: { layerId: LAYER_ID, action: 'measure' } });
      assert.notEqual(parsed, sent);
      assert.notEqual(parsedParams(sent), sent.params);
    });

    it('so a later change to what was sent does not reach the host', () => {
      const sent = request('select-layer', { layerId: LAYER_ID });
      const params = parsedParams(sent);
      sent.params = { layerId: 'changed' };
      assert.equal(params?.layerId, LAYER_ID);
    });
  });

  describe('rejects, without throwing', () => {
    it('anything that is not a plain object', () => {
      for (const message of [null, undefined, 0, 42, 'ready', '{"type":"ready"}', true, [], [{ type: 'ready' }], () => ({ type: 'ready' })]) {
        assertRejected(message);
      }
    });

    it('an array dressed up as a message', () => {
      assertRejected(Object.assign([], { type: 'ready' }));
      assertRejected(Object.assign([], request('select-layer', { layerId: LAYER_ID })));
    });

    it('an unknown or missing type', () => {
      for (const type of [undefined, null, '', 'READY', 'Request', 'response', 'model', 'hello', ['ready'], { toString: () => 'ready' }]) {
        assertRejected({ type });
        assertRejected({ ...request('select-layer', { layerId: LAYER_ID }), type });
      }
    });

    it('an unknown kind, including names every object inherits', () => {
      for (const kind of [undefined, null, '', 'delete-file', 'Select-Layer', 'select-layer ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 7]) {
        assertRejected(request(kind, { layerId: LAYER_ID }));
      }
    });

    it('a kind that only becomes a known one when turned into a string', () => {
      assertRejected(request(['select-layer'], { layerId: LAYER_ID }));
      assertRejected(request({ toString: () => 'select-layer' }, { layerId: LAYER_ID }));
    });

    it('a missing or malformed request id, huge ones included', () => {
      const message = request('select-layer', { layerId: LAYER_ID });
      const { id: _dropped, ...withoutId } = message;
      assertRejected(withoutId);
      for (const id of [null, '7', 1.5, -1, NaN, Infinity, -Infinity, 2 ** 53, 1e300, Number.MAX_VALUE, [7], { id: 7 }, true]) {
        assertRejected(request('select-layer', { layerId: LAYER_ID }, id));
      }
    });

    it('missing params, or params that are not a plain object', () => {
      for (const params of [undefined, null, LAYER_ID, 7, [], [LAYER_ID], Object.assign([], { layerId: LAYER_ID })]) {
        assertRejected(request('select-layer', params));
        assertRejected(request('run-layer-action', params));
      }
    });

    it('a layer id that is missing, not a string, empty or too long', () => {
      for (const layerId of [undefined, null, 7, '', [LAYER_ID], { toString: () => LAYER_ID }, 'x'.repeat(MAX_LAYER_ID_LENGTH + 1), 'x'.repeat(10 << 20)]) {
        assertRejected(request('select-layer', { layerId }));
        assertRejected(layerAction({ layerId }));
      }
    });

    it('an unknown layer action', () => {
      for (const action of [undefined, null, '', 'Quantize-Int8', 'quantize-int8 ', 'delete', 'constructor', 0, ['measure']]) {
        assertRejected(layerAction({ action }));
      }
    });

    it('a value that is not a finite number', () => {
      for (const value of [null, '0.5', NaN, Infinity, -Infinity, 1e309, [0.5], { value: 0.5 }, true, 10n]) {
        assertRejected(layerAction({ value }));
      }
    });
  });

  describe('keys that aim at prototypes', () => {
    const afterJson = (text: string): unknown => JSON.parse(text);

    it('params whose only layerId sits behind an own "__proto__" key are rejected', () => {
      assertRejected(afterJson(`{"type":"request","id":7,"kind":"select-layer","params":{"__proto__":{"layerId":"${LAYER_ID}"}}}`));
      assertRejected(afterJson(`{"type":"request","id":7,"kind":"run-layer-action","params":{"layerId":"${LAYER_ID}","__proto__":{"action":"measure"}}}`));
    });

    it('fields inherited from a prototype count for nothing', () => {
      assertRejected(Object.create({ type: 'ready' }));
      assertRejected(Object.assign(Object.create({ id: 7 }), { type: 'request', kind: 'select-layer', params: { layerId: LAYER_ID } }));
      assertRejected(request('select-layer', Object.create({ layerId: LAYER_ID })));
      assertRejected(layerAction({ action: undefined, ...Object.create({ action: 'measure' }) }));
    });

    it('"__proto__" and "constructor" keys in an accepted message are left behind and pollute nothing', () => {
      const parsed = parseWebviewMessage(afterJson(
        `{"type":"request","id":7,"kind":"select-layer","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},`
        + `"params":{"layerId":"${LAYER_ID}","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}`));
      assert.deepEqual(parsed, { type: 'request', id: 7, kind: 'select-layer', params: { layerId: LAYER_ID } });
      assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
      assert.equal(parsed?.type === 'request' && Object.getPrototypeOf(parsed.params), Object.prototype);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });
});
