/**
 * What can go wrong when ONNX Runtime loads or runs a model in its process.
 * Messages name the model and, where ONNX Runtime says it, the node.
 */
import { OnnxLensError, quote } from '../errors';
import { nodeLabel, forEachGraphScope } from '../model/graph-walk';
import { onnx } from '../proto';

export type RuntimePhase = 'load' | 'run';

/** Any failure of ONNX Runtime on a model: refused, crashed or hung. */
export abstract class ModelRuntimeError extends OnnxLensError {
  constructor(message: string, readonly modelName: string, readonly phase: RuntimePhase) {
    super(message);
  }
}

/** ONNX Runtime refused to load or run the model and said why. */
export class RuntimeRefusedError extends ModelRuntimeError {
  readonly code = 'runtime-refused';

  /** `feeds` describes what a failed run was fed, "input: float32[1,1], sr: int64[]": often the cause. */
  constructor(modelName: string, phase: RuntimePhase, readonly runtimeMessage: string, readonly node?: string, feeds?: string) {
    super(
      `ONNX Runtime could not ${phase} ${quote(modelName)}${node ? ` at node ${quote(node)}` : ''}: ${sentence(innermostStatus(runtimeMessage))}`
        + (feeds ? ` The inputs were ${feeds}.` : ''),
      modelName, phase);
  }
}

/** The runtime process died (a native crash or abort, or killed from outside) while working on the model. */
export class RuntimeCrashError extends ModelRuntimeError {
  readonly code = 'runtime-crash';

  constructor(modelName: string, phase: RuntimePhase, readonly signal: string | null, readonly exitCode: number | null, readonly stderrHead = '') {
    const how = signal ? `signal ${signal}${SIGNAL_MEANINGS[signal] ? `, ${SIGNAL_MEANINGS[signal]}` : ''}` : `exit code ${exitCode}`;
    const said = stderrHead.trim().split('\n', 1)[0].slice(0, MAX_QUOTED_CHARS);
    super(
      `ONNX Runtime crashed while ${phase === 'load' ? 'loading' : 'running'} ${quote(modelName)} (${how}); `
        + `it ran in a process of its own, which ended${said ? `, saying ${JSON.stringify(said)}` : ''}.`,
      modelName, phase);
  }
}

/** A load or run showed no progress within the time allowed; its process was stopped. */
export class RuntimeTimeoutError extends ModelRuntimeError {
  readonly code = 'runtime-timeout';

  constructor(modelName: string, phase: RuntimePhase, readonly timeoutMs: number) {
    super(
      `ONNX Runtime did not finish ${phase === 'load' ? 'loading' : 'running'} ${quote(modelName)} within ${timeoutMs / 1000} s; its process was stopped.`,
      modelName, phase);
  }
}

/** A file of real inputs cannot be read, or does not fit the model's inputs. */
export class InputDataError extends OnnxLensError {
  readonly code = 'input-data';

  constructor(message: string, readonly file: string) {
    super(message);
  }
}

const MAX_QUOTED_CHARS = 200;
const MAX_DETAIL_CHARS = 600;

const SIGNAL_MEANINGS: Readonly<Record<string, string>> = {
  SIGSEGV: 'an invalid memory access in native code',
  SIGBUS: 'an invalid memory access in native code',
  SIGFPE: 'an arithmetic fault in native code',
  SIGILL: 'an illegal instruction in native code',
  SIGABRT: 'native code aborted',
  SIGKILL: 'killed, often by the system for using too much memory',
};

/** Where ONNX Runtime names nodes, innermost last: "running If node. Name:'If_0' Status Message: ... Name:'Pad_3'". */
const RUN_NODE_NAME = /Name:'([^']*)'/g;
const KERNEL_NODE_NAME = /node with name '([^']*)'/;
const GRAPH_NODE_NAME = /Node \(([^)]*)\) Op \(/;
/** "com.example:Foo(-1) is not a registered function/op": ORT names the op, the model knows the node. */
const UNREGISTERED_OP = /(?:([\w.]+):)?(\w+)\(-?\d+\) is not a registered function\/op/;
const STATUS_MESSAGE = 'Status Message: ';
/** ORT_ENFORCE's "/onnxruntime_src/.../file.cc:123 <C++ signature> " in front of the real message. */
const SOURCE_PREFIX = /^\/\S+:\d+ (?:[^()]*\([^()]*\)(?: const)?(?: \[with [^\]]*\])? )?/;
/** "Load model from /path/model.onnx failed:": the error already names the model. */
const LOAD_PREFIX = /^Load model from .* failed:\s*/;

/** The node a message of ONNX Runtime is about, looked up in the model when ORT names only the op. */
export function nodeInRuntimeMessage(message: string, model?: onnx.IModelProto): string | undefined {
  const named = [...message.matchAll(RUN_NODE_NAME)].map((match) => match[1]).filter(Boolean);
  if (named.length > 0) return named[named.length - 1];
  const direct = KERNEL_NODE_NAME.exec(message)?.[1] || GRAPH_NODE_NAME.exec(message)?.[1];
  if (direct) return direct;
  const op = UNREGISTERED_OP.exec(message);
  return op && model ? firstNodeOfOp(model, op[1] ?? '', op[2]) : undefined;
}

function firstNodeOfOp(model: onnx.IModelProto, domain: string, opType: string): string | undefined {
  let found: string | undefined;
  forEachGraphScope(model, (scope) => {
    scope.nodes.forEach((node, index) => {
      if (!found && node.opType === opType && (node.domain ?? '') === domain) found = nodeLabel(node, index);
    });
  });
  return found;
}

/** What the innermost node's kernel said, without ORT's source location. */
function innermostStatus(message: string): string {
  const start = message.lastIndexOf(STATUS_MESSAGE);
  const status = start >= 0 ? message.slice(start + STATUS_MESSAGE.length) : message;
  return status.trim().replace(LOAD_PREFIX, '').replace(SOURCE_PREFIX, '').slice(0, MAX_DETAIL_CHARS);
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
