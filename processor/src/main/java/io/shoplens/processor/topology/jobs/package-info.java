/**
 * The exactly-once protocol for work that runs off the stream thread, written once: {@link
 * io.shoplens.processor.topology.jobs.AsyncJobs} records each job in a changelogged store, hands it
 * to the engine, forwards its result and deletes it in one transaction from a punctuator, submits
 * again what a restore brings back, bounds the requests in flight, retries with backoff under one
 * {@link io.shoplens.processor.topology.jobs.FailurePolicy}, and dead-letters through one {@link
 * io.shoplens.processor.topology.jobs.DeadLetters} builder. Processors supply only their domain:
 * what a job is and what its result becomes ({@link io.shoplens.processor.topology.jobs.JobWork}).
 * Processors whose records are each a job keyed by the record key extend {@link
 * io.shoplens.processor.topology.jobs.KeyedJobProcessor}, which refuses and reads their records the
 * one way.
 */
package io.shoplens.processor.topology.jobs;
