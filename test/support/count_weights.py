"""Independent count of a model's float weights, with the onnx Python package.

Walks initializers, sparse initializers and Constant nodes in the main graph,
every subgraph at any depth and every model-local function, and prints JSON:
{"tensors": N, "parameters": P} for float tensors (float16/32/64, bfloat16).
"""
import json
import sys

import onnx
from onnx import TensorProto

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}


def size(dims):
    count = 1
    for dim in dims:
        count *= dim
    return count


def count_graph(graph, totals):
    for tensor in graph.initializer:
        add(tensor.data_type, size(tensor.dims), totals)
    for sparse in graph.sparse_initializer:
        add(sparse.values.data_type, size(sparse.dims), totals)
    count_nodes(graph.node, totals)


def count_nodes(nodes, totals):
    for node in nodes:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            count_constant(node, totals)
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                count_graph(attribute.g, totals)
            for graph in attribute.graphs:
                count_graph(graph, totals)


def count_constant(node, totals):
    for attribute in node.attribute:
        if attribute.name == "value":
            add(attribute.t.data_type, size(attribute.t.dims), totals)
        elif attribute.name == "sparse_value":
            add(attribute.sparse_tensor.values.data_type, size(attribute.sparse_tensor.dims), totals)
        elif attribute.name == "value_float":
            add(TensorProto.FLOAT, 1, totals)
        elif attribute.name == "value_floats":
            add(TensorProto.FLOAT, len(attribute.floats), totals)


def add(data_type, parameters, totals):
    if data_type in FLOAT_TYPES:
        totals["tensors"] += 1
        totals["parameters"] += parameters


def main(path):
    model = onnx.load(path, load_external_data=False)
    totals = {"tensors": 0, "parameters": 0}
    count_graph(model.graph, totals)
    for function in model.functions:
        count_nodes(function.node, totals)
    print(json.dumps(totals))


if __name__ == "__main__":
    main(sys.argv[1])
