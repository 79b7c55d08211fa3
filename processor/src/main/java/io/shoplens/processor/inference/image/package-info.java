/**
 * Image bytes to BLIP-2 {@code pixel_values}: decoding (JPEG, PNG, GIF, BMP, WebP), EXIF
 * orientation, RGB conversion, Pillow-exact bicubic resize, rescale and normalisation, as Hugging
 * Face's {@code BlipImageProcessor} does it. Knows nothing about ONNX Runtime or Kafka.
 */
package io.shoplens.processor.inference.image;
