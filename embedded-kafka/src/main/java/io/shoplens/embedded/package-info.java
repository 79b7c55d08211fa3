/**
 * An in-process single-node KRaft Kafka cluster on Kafka's own test kit, for {@code shoplens demo}
 * and integration tests ({@link io.shoplens.embedded.EmbeddedKafkaCluster}).
 */
package io.shoplens.embedded;
