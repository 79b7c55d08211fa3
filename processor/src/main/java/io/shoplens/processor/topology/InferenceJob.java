package io.shoplens.processor.topology;

import io.shoplens.processor.topology.jobs.AsyncJob;

/**
 * A unit of inference work, recorded in the in-flight store from the moment it is accepted until
 * its result (or dead letter) is forwarded.
 *
 * @param id unique per input record (kind, topic, partition, zero-padded offset), so that store
 *     order is arrival order within a partition
 * @param kind caption or answer
 * @param uploadId the upload (record key)
 * @param conversationKey uploadId and conversationId for a conversation turn, else null
 * @param origin the input record
 * @param attempts failed tries so far that count towards {@code maxAttempts}
 */
record InferenceJob(
    String id, Kind kind, String uploadId, String conversationKey, Origin origin, int attempts)
    implements AsyncJob<InferenceJob> {

  /** What a job asks the engine for. */
  enum Kind {
    /** A caption plus one answer per attribute prompt, for an upload. */
    CAPTION,
    /** An answer to a question. */
    ANSWER
  }

  static InferenceJob of(Kind kind, String uploadId, String conversationKey, Origin origin) {
    String id =
        String.format(
            "%s|%s|%d|%019d",
            kind == Kind.CAPTION ? "C" : "A", origin.topic(), origin.partition(), origin.offset());
    return new InferenceJob(id, kind, uploadId, conversationKey, origin, 0);
  }

  @Override
  public InferenceJob withAttempts(int n) {
    return new InferenceJob(id, kind, uploadId, conversationKey, origin, n);
  }

  /** A conversation's turns run one after another: each prompt includes the answer before it. */
  @Override
  public String sequenceKey() {
    return conversationKey;
  }
}
