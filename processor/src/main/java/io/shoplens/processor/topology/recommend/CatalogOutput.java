package io.shoplens.processor.topology.recommend;

import io.shoplens.events.DeadLetter;

/** What the catalog embedder forwards: an embedded product, a deletion, or a dead letter. */
sealed interface CatalogOutput {
  /** A product to publish on the embeddings topic. */
  record Upsert(CatalogEntry entry) implements CatalogOutput {}

  /** A tombstone for the embeddings topic. */
  record Delete() implements CatalogOutput {}

  /** A catalog record that could not be used (or whose image could not be embedded). */
  record Dead(DeadLetter letter) implements CatalogOutput {}
}
