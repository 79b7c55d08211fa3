package io.shoplens.processor.images;

import io.shoplens.events.ImageReference;
import io.shoplens.events.InlineImage;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production {@link ImageResolver}: inline images up to {@link
 * ImageResolverConfig#maxInlineBytes()}, and references fetched over https (http when enabled) from
 * allow-listed hosts on public addresses, with size, time, content-type and SHA-256 checks.
 *
 * <p>Inline images complete on the calling thread (no I/O). References are fetched on {@link
 * ImageResolverConfig#fetchThreads()} daemon threads; each fetch ends within {@link
 * ImageResolverConfig#totalTimeout()} plus one DNS lookup (the JDK's lookup has no time-out of its
 * own; the OS resolver's applies). When {@link ImageResolverConfig#maxQueuedFetches()} references
 * are already waiting, further ones fail at once as retriable.
 *
 * <p>What a reference must pass, in order (the first failure is the refusal's reason):
 *
 * <ol>
 *   <li>an absolute URI without user info, a 64-hex-digit lowercase sha256, a declared image/*
 *       content type and a declared size within the limit;
 *   <li>scheme https (or http when allowed), host on the allow-list;
 *   <li>every address the host resolves to is public (or loopback/private when allowed); the
 *       connection then goes to that checked address, never to a second lookup;
 *   <li>status 200 after at most {@link ImageResolverConfig#maxRedirects()} same-host redirects,
 *       each re-checked; a redirect to another host is refused;
 *   <li>a Content-Type equal to the declared one; a body no longer than the declared size (counted
 *       while it streams, whatever Content-Length says), exactly that size, with that SHA-256.
 * </ol>
 */
public final class HttpImageResolver implements ImageResolver {
  private static final Logger LOG = LoggerFactory.getLogger(HttpImageResolver.class);

  private final ImageResolverConfig config;
  private final ReferenceFetcher fetcher;
  private final ThreadPoolExecutor fetchPool;

  /** A resolver that uses the system's DNS and the JVM's default TLS trust store. */
  public HttpImageResolver(ImageResolverConfig config) {
    this(
        config,
        new ReferenceFetcher(
            config,
            FetchPolicy.SYSTEM_DNS,
            HttpClientTransport.withDefaultTrust(),
            System::nanoTime));
  }

  HttpImageResolver(ImageResolverConfig config, ReferenceFetcher fetcher) {
    this.config = Objects.requireNonNull(config, "config");
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    AtomicInteger threadNumber = new AtomicInteger();
    ThreadFactory threads =
        runnable -> {
          Thread t = new Thread(runnable, "shoplens-image-fetch-" + threadNumber.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.fetchPool =
        new ThreadPoolExecutor(
            config.fetchThreads(),
            config.fetchThreads(),
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(config.maxQueuedFetches()),
            threads,
            new ThreadPoolExecutor.AbortPolicy());
  }

  public ImageResolverConfig config() {
    return config;
  }

  @Override
  public CompletableFuture<ResolvedImage> resolve(Object image) {
    if (!(image instanceof ImageReference ref)) {
      try {
        return CompletableFuture.completedFuture(resolveNow(image));
      } catch (ImageRefusedException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    FetchTask task = new FetchTask(ref);
    try {
      fetchPool.execute(task);
    } catch (RejectedExecutionException e) {
      task.refuse(
          fetchPool.isShutdown()
              ? "the resolver is closed"
              : config.maxQueuedFetches() + " fetches are already waiting",
          e);
    }
    return task.result;
  }

  /** One queued fetch; keeps its future so that a fetch dropped on close still completes. */
  private final class FetchTask implements Runnable {
    final ImageReference ref;
    final CompletableFuture<ResolvedImage> result = new CompletableFuture<>();

    FetchTask(ImageReference ref) {
      this.ref = ref;
    }

    @Override
    public void run() {
      try {
        result.complete(fetcher.fetch(ref));
      } catch (ImageRefusedException e) {
        result.completeExceptionally(e);
      } catch (RuntimeException e) {
        result.completeExceptionally(
            new ImageRefusedException(
                ImageRefusedException.Reason.IO_ERROR,
                FetchPolicy.redact(ref.getUri()) + ": unexpected " + e,
                true,
                e));
      }
    }

    void refuse(String why, Throwable cause) {
      result.completeExceptionally(
          new ImageRefusedException(
              ImageRefusedException.Reason.IO_ERROR,
              FetchPolicy.redact(ref.getUri()) + ": not fetched, " + why,
              true,
              cause));
    }
  }

  /**
   * Resolves on the calling thread, blocking for a reference's whole fetch (up to {@link
   * ImageResolverConfig#totalTimeout()}): for tools and tests, never for a stream thread.
   *
   * @throws ImageRefusedException why the image was refused
   */
  public ResolvedImage resolveNow(Object image) throws ImageRefusedException {
    if (image instanceof InlineImage inline) {
      return resolveInline(inline);
    }
    if (image instanceof ImageReference ref) {
      return fetcher.fetch(ref);
    }
    throw notAnImage(image);
  }

  /**
   * The refusal for a value that is neither an {@link InlineImage} nor an {@link ImageReference}.
   */
  static ImageRefusedException notAnImage(Object image) {
    return new ImageRefusedException(
        ImageRefusedException.Reason.INVALID_REFERENCE,
        "no image: expected an InlineImage or an ImageReference, got "
            + (image == null ? "null" : image.getClass().getSimpleName()),
        false);
  }

  private ResolvedImage resolveInline(InlineImage inline) {
    ByteBuffer data = inline.getData().duplicate();
    int size = data.remaining();
    if (size == 0) {
      throw new ImageRefusedException(
          ImageRefusedException.Reason.EMPTY, "inline image has 0 bytes", false);
    }
    if (size > config.maxInlineBytes()) {
      throw new ImageRefusedException(
          ImageRefusedException.Reason.TOO_LARGE,
          "inline image has " + size + " bytes, more than the limit of " + config.maxInlineBytes(),
          false);
    }
    String type = inline.getContentType().strip().toLowerCase(Locale.ROOT);
    if (!type.startsWith("image/")) {
      throw new ImageRefusedException(
          ImageRefusedException.Reason.CONTENT_TYPE_MISMATCH,
          "inline image has content type '" + inline.getContentType() + "', expected image/*",
          false);
    }
    byte[] bytes = new byte[size];
    data.get(bytes);
    return new ResolvedImage(bytes, inline.getContentType());
  }

  /**
   * Stops the fetch threads. Fetches still running end within their time-outs (a blocked socket
   * read does not answer interrupts); waiting ones fail as retriable refusals.
   */
  @Override
  public void close() {
    for (Runnable waiting : fetchPool.shutdownNow()) {
      ((FetchTask) waiting).refuse("the resolver was closed", null);
    }
    try {
      if (!fetchPool.awaitTermination(config.readTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn(
            "image fetch threads still running {} after close; they end at their time-outs",
            config.readTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
