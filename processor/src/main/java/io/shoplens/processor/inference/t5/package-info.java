/**
 * BLIP-2 with a T5 / Flan-T5 language model ({@code architecture: blip2-t5}, docs/model-bundle.md
 * "BLIP-2 Flan-T5 bundles"): the bundle reader, the four graphs (vision, embed, encoder, decoder
 * step with self and cross KV) and encoder-decoder generation (greedy and beam search, batched,
 * token for token Hugging Face's {@code generate()}). Not yet behind the engine's scheduler: the
 * application serves OPT bundles and refuses a T5 bundle at start-up with its architecture named.
 */
package io.shoplens.processor.inference.t5;
