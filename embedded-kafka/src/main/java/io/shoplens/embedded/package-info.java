/**
 * An in-process KRaft Kafka cluster on Kafka's own test kit, for {@code shoplens demo} and
 * integration tests ({@link io.shoplens.embedded.EmbeddedKafkaCluster}): one combined node, or
 * several brokers that can be stopped and started again.
 */
package io.shoplens.embedded;
