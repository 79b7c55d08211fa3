package io.shoplens.processor.topology.search;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProductSearchResults;

/** What the search processor forwards: results (found, empty or refused), or a dead letter. */
sealed interface SearchOutput {
  /** The answer to a search, for the search-results topic. */
  record Results(ProductSearchResults event) implements SearchOutput {}

  /** A request that could not be read or whose search failed for good. */
  record Dead(DeadLetter letter) implements SearchOutput {}
}
