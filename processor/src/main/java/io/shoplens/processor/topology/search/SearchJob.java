package io.shoplens.processor.topology.search;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.shoplens.processor.topology.JsonStoreSerde;
import io.shoplens.processor.topology.Origin;
import io.shoplens.processor.topology.jobs.AsyncJob;
import org.apache.kafka.common.serialization.Serde;

/**
 * A search whose text is being embedded, kept in the changelogged search in-flight store from the
 * moment its request is accepted until its results (or dead letter) are forwarded: the request as
 * read, byte for byte, so that it can be re-read after a restart and dead-lettered as it was.
 *
 * @param id the search's requestId (record key, and the store key), written as {@code requestId}
 * @param origin the ProductSearchRequested record as read
 * @param attempts failed tries so far that count towards {@code maxAttempts}
 */
record SearchJob(@JsonProperty("requestId") String id, Origin origin, int attempts)
    implements AsyncJob<SearchJob> {

  @Override
  public SearchJob withAttempts(int n) {
    return new SearchJob(id, origin, n);
  }

  /** JSON serde (readable in the changelog, tolerant of added fields). */
  static Serde<SearchJob> serde() {
    return JsonStoreSerde.of(SearchJob.class);
  }
}
