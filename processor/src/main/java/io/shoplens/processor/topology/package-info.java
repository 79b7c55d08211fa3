/**
 * The ShopLens Kafka Streams topology: {@link io.shoplens.processor.topology.ShopLensTopology}
 * builds it from a {@link io.shoplens.processor.topology.ShopLensTopologyConfig}, an {@code
 * InferenceEngine} and an {@link io.shoplens.processor.images.ImageResolver}. Knows nothing about
 * ONNX Runtime or the model bundle (checked by {@code ArchitectureGuardTest}).
 */
package io.shoplens.processor.topology;
