"""ShopLens model exporter: Hugging Face BLIP-2 -> ONNX model bundle (see docs/model-bundle.md)."""

__version__ = "0.1.0"
# 2: the decoder returns logits of the last position only, [B,1,V] (1 returned [B,S,V]).
FORMAT_VERSION = 2
ONNX_OPSET = 18
