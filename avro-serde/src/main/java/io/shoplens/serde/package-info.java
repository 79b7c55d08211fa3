/**
 * Avro serializers, deserializers and Kafka Streams serdes in Confluent's wire format (magic byte
 * 0, 4-byte big-endian schema id, Avro binary), configured with Confluent's names ({@link
 * io.shoplens.serde.KafkaAvroSerDeConfig}).
 *
 * <p>Every failure is an {@link org.apache.kafka.common.errors.SerializationException} that names
 * the topic, the subject when known and the schema id; a registry that cannot be reached gives a
 * {@link io.shoplens.serde.RetriableSerializationException}.
 */
package io.shoplens.serde;
