package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.FinishReason;

/**
 * One generated sequence.
 *
 * @param tokens generated ids (stop token included when {@code reason} is STOP)
 * @param reason why it ended
 * @param score beam score (length-penalised sum of log probabilities), NaN otherwise
 */
public record Hypothesis(long[] tokens, FinishReason reason, float score) {}
