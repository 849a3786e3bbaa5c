"""ONNX's reference checker over pass outputs: onnx.checker.check_model(m, full_check=True).

Takes model paths and prints one JSON object a line: {"path": P, "ok": true}
or {"path": P, "ok": false, "error": "..."}. Run with Debian's python3, whose
python3-onnx (onnx 1.12) knows operator sets up to 17.
"""
import json
import sys

import onnx


def check(path):
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return {"path": path, "ok": True}
    except Exception as error:  # the checker raises several exception types
        return {"path": path, "ok": False, "error": str(error).strip()}


def main(paths):
    for path in paths:
        print(json.dumps(check(path)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
