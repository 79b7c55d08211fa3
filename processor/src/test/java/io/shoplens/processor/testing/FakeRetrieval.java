package io.shoplens.processor.testing;

import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.retrieval.ImageFeatures;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one retrieval-model stand-in for tests that need no model: fast and deterministic.
 *
 * <p>Its "images" are {@link FakeEngine#image} specs whose {@code feat} entry spells out the query
 * vectors, for example {@code category=sneakers;feat=1,0,0/0.8,0.6,0} (two query vectors of three
 * floats, each normalised here); an image without {@code feat} fails as a bad image would ({@link
 * IllegalArgumentException}). Texts have the vectors given with {@link #text}; any other text fails
 * with an {@link InferenceException} (a model failure, retried).
 */
public final class FakeRetrieval implements RetrievalEngine {
  /** The model version of every feature. */
  public static final String VERSION = "fake-retrieval-v1";

  /** The request id of every image request, in order. */
  public final List<String> images = new CopyOnWriteArrayList<>();

  /** The request id of every text request, in order. */
  public final List<String> texts = new CopyOnWriteArrayList<>();

  private final int dim;
  private final Map<String, float[]> textVectors = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A model of {@code dim}-d features. */
  public FakeRetrieval(int dim) {
    this.dim = dim;
  }

  /** Makes {@code text}'s feature {@code vector} (normalised). */
  public FakeRetrieval text(String text, float... vector) {
    if (vector.length != dim) {
      throw new IllegalArgumentException("expected " + dim + " floats, got " + vector.length);
    }
    textVectors.put(text, normalized(vector));
    return this;
  }

  /** An image spec whose query vectors are {@code vectors}, with other entries in {@code spec}. */
  public static String feat(String spec, float[]... vectors) {
    StringBuilder out = new StringBuilder(spec.isEmpty() ? "" : spec + ";").append("feat=");
    for (int q = 0; q < vectors.length; q++) {
      if (q > 0) {
        out.append('/');
      }
      for (int d = 0; d < vectors[q].length; d++) {
        out.append(d > 0 ? "," : "").append(vectors[q][d]);
      }
    }
    return out.toString();
  }

  @Override
  public String modelId() {
    return "fake/retrieval";
  }

  @Override
  public String modelVersion() {
    return VERSION;
  }

  @Override
  public int embedDim() {
    return dim;
  }

  @Override
  public CompletableFuture<ImageFeatures> imageFeatures(String requestId, byte[] image) {
    images.add(requestId);
    if (closed) {
      return CompletableFuture.failedFuture(new RequestRejectedException("closed"));
    }
    try {
      return CompletableFuture.completedFuture(features(image));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<float[]> textFeatures(String requestId, String text) {
    texts.add(requestId);
    if (closed) {
      return CompletableFuture.failedFuture(new RequestRejectedException("closed"));
    }
    float[] v = textVectors.get(text);
    return v == null
        ? CompletableFuture.failedFuture(
            new InferenceException("no text feature for '" + text + "' (" + requestId + ")"))
        : CompletableFuture.completedFuture(v.clone());
  }

  @Override
  public void close() {
    closed = true;
  }

  private ImageFeatures features(byte[] image) {
    String feat = null;
    for (String part : new String(image, StandardCharsets.UTF_8).split(";")) {
      if (part.strip().startsWith("feat=")) {
        feat = part.strip().substring("feat=".length());
      }
    }
    if (feat == null) {
      throw new IllegalArgumentException("not an image (no feat)");
    }
    String[] rows = feat.split("/");
    float[] all = new float[rows.length * dim];
    for (int q = 0; q < rows.length; q++) {
      String[] parts = rows[q].split(",");
      if (parts.length != dim) {
        throw new IllegalArgumentException("expected " + dim + " floats in " + rows[q]);
      }
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = Float.parseFloat(parts[d]);
      }
      System.arraycopy(normalized(v), 0, all, q * dim, dim);
    }
    return new ImageFeatures(rows.length, dim, all);
  }

  private static float[] normalized(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / Math.sqrt(norm));
    }
    return out;
  }
}
