"""ShopLens model exporter: Hugging Face BLIP-2 -> ONNX model bundle (see docs/model-bundle.md)."""

__version__ = "0.1.0"
FORMAT_VERSION = 1
ONNX_OPSET = 18
