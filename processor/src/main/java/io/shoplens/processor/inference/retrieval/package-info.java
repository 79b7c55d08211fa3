/**
 * BLIP-2 image-text retrieval ({@code Blip2ForImageTextRetrieval}): a retrieval bundle's image and
 * text features in one L2-normalised space (ITC) and its image-text matching head (ITM). Knows
 * nothing about Kafka; the catalog index and the search topology use it through {@link
 * io.shoplens.processor.inference.retrieval.RetrievalModel}.
 */
package io.shoplens.processor.inference.retrieval;
