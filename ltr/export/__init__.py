"""ONNX export of the tracking networks as separate template and search graphs (encode the template once).

``python -m ltr.export.onnx <jcat|bit> [--checkpoint P | --config C] --out DIR`` writes the graphs,
a ``manifest.json`` (graph names, inputs, outputs, network kwargs) and checks every graph against
PyTorch with onnxruntime. ``pytracking.tracker.onnx`` runs the exported graphs behind the same
methods as the torch networks.
"""
