/** BLIP-2 on ONNX Runtime. Knows nothing about Kafka. */
package io.shoplens.processor.inference;
