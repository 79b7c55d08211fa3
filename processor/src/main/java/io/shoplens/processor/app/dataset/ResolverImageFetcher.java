package io.shoplens.processor.app.dataset;

import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.HttpImageResolver;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import io.shoplens.processor.images.ImageResolverConfig;

/**
 * Fetches catalog images through the topology's own {@link HttpImageResolver}: the same allow-list,
 * address, size, time, content-type and digest checks as an upload's image, and no second HTTP
 * client. Blocks for each fetch (a dataset build is a tool, not a stream thread).
 */
public final class ResolverImageFetcher implements DatasetBuilder.ImageFetcher, AutoCloseable {
  private final HttpImageResolver resolver;

  public ResolverImageFetcher(ImageResolverConfig config) {
    this.resolver = new HttpImageResolver(config);
  }

  @Override
  public ResolvedImage fetch(String productId, ImageReference reference) {
    return resolver.resolveNow(reference);
  }

  @Override
  public void close() {
    resolver.close();
  }
}
