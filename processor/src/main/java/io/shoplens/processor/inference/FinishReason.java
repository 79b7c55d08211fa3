package io.shoplens.processor.inference;

/** Why a sequence ended. */
public enum FinishReason {
  /** A stop (eos) token was generated; it is the last token of the sequence. */
  STOP,
  /** {@code maxNewTokens} were generated without a stop token. */
  LENGTH
}
