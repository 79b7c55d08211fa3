package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.testing.DriverTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** A TopologyTestDriver running ShopLensTopology, with typed input and output topics. */
final class TopologyHarness implements AutoCloseable {
  final ShopLensTopologyConfig config;
  final Topics topics;
  final TopologyTestDriver driver;
  final TestInputTopic<String, ImageUploaded> uploads;
  final TestInputTopic<String, QuestionAsked> questions;
  final TestInputTopic<byte[], byte[]> rawUploads;
  final TestInputTopic<byte[], byte[]> rawQuestions;
  final TestOutputTopic<String, ImageCaptioned> captions;
  final TestOutputTopic<String, QuestionAnswered> answers;
  final TestOutputTopic<String, DeadLetter> deadLetters;
  final TestOutputTopic<byte[], DeadLetter> rawKeyedDeadLetters;

  TopologyHarness(
      ShopLensTopologyConfig config,
      InferenceEngine engine,
      ImageResolver resolver,
      Path stateDir) {
    this(config, engine, resolver, stateDir, StreamsConfig.EXACTLY_ONCE_V2);
  }

  /**
   * @param guarantee processing guarantee; the topology assumes exactly_once_v2, but the test
   *     driver drops dead letters written by the deserialization handler under it (it commits only
   *     after a record was processed, and a skipped record is not), so those tests use
   *     at_least_once here and exactly-once on a real broker
   */
  TopologyHarness(
      ShopLensTopologyConfig config,
      InferenceEngine engine,
      ImageResolver resolver,
      Path stateDir,
      String guarantee) {
    this.config = config;
    StreamsBuilder builder = new StreamsBuilder();
    topics = ShopLensTopology.build(builder, config, engine, resolver);
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(config.serdeConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shoplens-topology-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    driver = new TopologyTestDriver(builder.build(props), props, TestEvents.T0);
    uploads = DriverTopics.input(driver, topics.imageUploads());
    questions = DriverTopics.input(driver, topics.questions());
    ByteArraySerializer bytes = new ByteArraySerializer();
    rawUploads = driver.createInputTopic(topics.imageUploads().name(), bytes, bytes);
    rawQuestions = driver.createInputTopic(topics.questions().name(), bytes, bytes);
    captions = DriverTopics.output(driver, topics.captions());
    answers = DriverTopics.output(driver, topics.answers());
    deadLetters = DriverTopics.output(driver, topics.deadLetters());
    rawKeyedDeadLetters =
        driver.createOutputTopic(
            topics.deadLetters().name(),
            new ByteArrayDeserializer(),
            topics.deadLetters().valueSerde().deserializer());
  }

  static Map<String, Object> serdeConfig(String registryScope) {
    return Map.of("schema.registry.url", "mock://" + registryScope);
  }

  /** Advances the wall clock by one punctuation interval: completed results are forwarded. */
  void tick() {
    driver.advanceWallClockTime(config.punctuationInterval());
  }

  void advance(Duration d) {
    driver.advanceWallClockTime(d);
  }

  Instant now() {
    return TestEvents.T0;
  }

  @Override
  public void close() {
    driver.close();
  }
}
