/**
 * BLIP-2 with a T5 / Flan-T5 language model ({@code architecture: blip2-t5}, docs/model-bundle.md
 * "BLIP-2 Flan-T5 bundles"): the bundle reader, the four graphs (vision, embed, encoder, decoder
 * step with self and cross KV). The engine serves these bundles through {@code inference.T5Model}
 * and {@code generation.EncoderDecoderBatch} (static batches, the same greedy, beam and sampling
 * token pickers as OPT).
 */
package io.shoplens.processor.inference.t5;
