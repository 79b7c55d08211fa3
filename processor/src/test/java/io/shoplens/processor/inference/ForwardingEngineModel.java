package io.shoplens.processor.inference;

import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import java.util.List;

/**
 * A real model behind the engine's seam, for tests that hold, count or fail one of its calls: every
 * call goes to {@code delegate} unless the test overrides it. The tower tap ({@link #exposesTower},
 * the three-argument {@link #encodeImages(List, List, VisionTap)}) is left at the interface's
 * defaults (no tap, through {@link #encodeImages(List)}), so a test that counts vision passes sees
 * every one; a test of the tap overrides both.
 */
abstract class ForwardingEngineModel implements EngineModel {
  final EngineModel delegate;

  ForwardingEngineModel(EngineModel delegate) {
    this.delegate = delegate;
  }

  @Override
  public String modelVersion() {
    return delegate.modelVersion();
  }

  @Override
  public int numQueryTokens() {
    return delegate.numQueryTokens();
  }

  @Override
  public boolean reusesImagePrefixes() {
    return delegate.reusesImagePrefixes();
  }

  @Override
  public Blip2Model.Prepared prepare(GenerationRequest request) {
    return delegate.prepare(request);
  }

  @Override
  public float[] decodeImage(Blip2Model.Prepared prepared) {
    return delegate.decodeImage(prepared);
  }

  @Override
  public List<float[]> encodeImages(List<float[]> pixels) {
    return delegate.encodeImages(pixels);
  }

  @Override
  public <T> DecodingBatch<T> newBatch(EngineConfig config, PrefixStore prefixes) {
    return delegate.newBatch(config, prefixes);
  }

  @Override
  public <T> List<RunningBatch.Finished<T>> join(
      DecodingBatch<T> batch, List<RunningBatch.Input<T>> joiners) {
    return delegate.join(batch, joiners);
  }

  @Override
  public <T> List<RunningBatch.Finished<T>> step(DecodingBatch<T> batch) {
    return delegate.step(batch);
  }

  @Override
  public GenerationResult result(Blip2Model.Encoded encoded, RunningBatch.Finished<?> finished) {
    return delegate.result(encoded, finished);
  }

  /** Closes the delegate; tests whose model outlives each engine override this. */
  @Override
  public void close() {
    delegate.close();
  }
}
