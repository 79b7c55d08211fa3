package io.shoplens.processor.topology;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static io.shoplens.processor.testing.KafkaTestClients.sendRaw;
import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.testing.TinyModelCluster;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole flow on a real in-process KRaft broker, exactly-once, with the committed tiny BLIP-2
 * model and a {@code mock://} registry: captions and answers equal what the engine alone returns
 * for the same requests, and poison pills between the good records are each dead-lettered once
 * while every good record is answered.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ShopLensTopologyIntegrationTest {
  private static final String[] IMAGES = {"tiny.png", "photo.jpg", "wide.png", "alpha.png"};

  @TempDir Path stateDir;

  @Test
  void shouldAnswerEveryGoodRecordLikeTheEngineAloneAndDeadLetterEachPoisonPillOnce()
      throws Exception {
    String scope = "topology-it-" + UUID.randomUUID();
    ShopLensTopologyConfig config =
        ShopLensTopologyConfig.builder(TopologyHarness.serdeConfig(scope))
            .modelId("shoplens/tiny-blip2-opt")
            .imageTokens(10)
            .captionOptions(DecodingOptions.greedy().withMaxNewTokens(6))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
            .answerOptions(DecodingOptions.greedy().withMaxNewTokens(5))
            .build();
    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start();
        BatchingInferenceEngine engine =
            BatchingInferenceEngine.start(TinyBundle.dir(), TinyModelCluster.engineConfig())) {
      createTopics(
          kafka,
          3,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.DEAD_LETTERS));
      Topics topics = Topics.create(config.serdeConfig());

      // Given good uploads and questions (one conversation) with poison pills between them
      Map<String, byte[]> images = new LinkedHashMap<>();
      for (int i = 0; i < IMAGES.length; i++) {
        images.put("up-" + i, TestEvents.image(IMAGES[i]));
      }
      List<QuestionAsked> questions = new ArrayList<>();
      int q = 0;
      for (String uploadId : images.keySet()) {
        questions.add(TestEvents.question("q" + q++, uploadId, "what is it?"));
        questions.add(TestEvents.question("q" + q++, uploadId, "c-" + uploadId, "is it red?"));
        questions.add(TestEvents.question("q" + q++, uploadId, "c-" + uploadId, "and blue?"));
      }
      Map<String, ProcessingStage> poison = new HashMap<>();
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        List<String> ids = new ArrayList<>(images.keySet());
        for (int i = 0; i < ids.size(); i++) {
          String id = ids.get(i);
          send(producer, topics.imageUploads(), id, TestEvents.upload(id, images.get(id)));
          switch (i) {
            case 0 -> {
              sendRaw(producer, Topics.IMAGE_UPLOADS, "bad-garbage", "garbage".getBytes());
              poison.put("bad-garbage", ProcessingStage.DESERIALIZE);
              sendRaw(producer, Topics.QUESTIONS, "bad-schema", TestEvents.unknownSchemaId());
              poison.put("bad-schema", ProcessingStage.DESERIALIZE);
            }
            case 1 -> {
              send(
                  producer,
                  topics.imageUploads(),
                  "bad-jpeg",
                  TestEvents.upload("bad-jpeg", TestEvents.corruptJpeg()));
              poison.put("bad-jpeg", ProcessingStage.PREPROCESS);
              send(
                  producer,
                  topics.imageUploads(),
                  "bad-empty",
                  TestEvents.upload("bad-empty", new byte[0]));
              poison.put("bad-empty", ProcessingStage.VALIDATE);
            }
            case 2 -> {
              send(
                  producer,
                  topics.imageUploads(),
                  "bad-huge",
                  TestEvents.upload("bad-huge", TestEvents.hundredMegapixelPngHeader()));
              poison.put("bad-huge", ProcessingStage.PREPROCESS);
            }
            default -> {}
          }
        }
        for (QuestionAsked question : questions) {
          send(producer, topics.questions(), question.getUploadId(), question);
        }
        producer.flush();
      }

      // When the application runs, exactly-once
      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, config, engine, ImageResolver.inlineOnly(1_000_000));
      Properties props =
          streamsProperties(
              config,
              kafka.bootstrapServers(),
              "shoplens-it-" + UUID.randomUUID(),
              stateDir.toString());

      Map<String, ImageCaptioned> captions = new HashMap<>();
      Map<String, QuestionAnswered> answers = new HashMap<>();
      List<DeadLetter> deadLetters = new ArrayList<>();
      try (KafkaStreams streams = new KafkaStreams(builder.build(props), props);
          KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "verifier-")) {
        streams.start();
        consumer.subscribe(List.of(Topics.CAPTIONS, Topics.ANSWERS, Topics.DEAD_LETTERS));
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    switch (r.topic()) {
                      case Topics.CAPTIONS -> {
                        ImageCaptioned c = read(topics.captions(), r);
                        assertThat(captions.put(c.getUploadId(), c)).as("duplicate").isNull();
                      }
                      case Topics.ANSWERS -> {
                        QuestionAnswered a = read(topics.answers(), r);
                        assertThat(answers.put(a.getQuestionId(), a)).as("duplicate").isNull();
                      }
                      default -> deadLetters.add(read(topics.deadLetters(), r));
                    }
                  }
                  return captions.size() == images.size()
                      && answers.size() == questions.size()
                      && deadLetters.size() == poison.size();
                });
        // Nothing more arrives: no duplicate is merely late.
        for (int i = 0; i < 5; i++) {
          assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
        }
        streams.close(Duration.ofSeconds(30));
      }

      // Then captions and answers are exactly what the engine alone returns
      for (Map.Entry<String, byte[]> e : images.entrySet()) {
        ImageCaptioned c = captions.get(e.getKey());
        GenerationResult expected =
            run(engine, GenerationRequest.caption("x", e.getValue(), config.captionOptions(), 0));
        assertThat(c.getCaption()).isEqualTo(expected.text());
        assertThat(c.getTokenCounts().getGeneratedTokens()).isEqualTo(expected.generatedTokens());
        assertThat(c.getModel().getModelVersion()).isEqualTo(engine.modelVersion());
        List<String> attributes = new ArrayList<>();
        for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
          attributes.add(
              run(
                      engine,
                      GenerationRequest.question(
                          "x", e.getValue(), p.question(), List.of(), config.attributeOptions(), 0))
                  .text());
        }
        assertThat(c.getAttributes()).extracting(Attribute::getValue).isEqualTo(attributes);
      }
      Map<String, List<Turn>> history = new HashMap<>();
      for (QuestionAsked question : questions) {
        List<Turn> turns =
            question.getConversationId() == null
                ? List.of()
                : history.computeIfAbsent(question.getConversationId(), k -> new ArrayList<>());
        GenerationResult expected =
            run(
                engine,
                GenerationRequest.question(
                    "x",
                    images.get(question.getUploadId()),
                    question.getText(),
                    turns,
                    config.answerOptions(),
                    0));
        QuestionAnswered a = answers.get(question.getQuestionId());
        assertThat(a.getAnswer()).as(question.getQuestionId()).isEqualTo(expected.text());
        assertThat(a.getLineage().getSourceTopic()).isEqualTo(Topics.QUESTIONS);
        if (question.getConversationId() != null) {
          turns.add(new Turn(question.getText(), expected.text()));
        }
      }

      // And each poison pill is dead-lettered once, at its stage
      Map<String, ProcessingStage> stages = new HashMap<>();
      for (DeadLetter dl : deadLetters) {
        String key = new String(bytes(dl.getKey()), StandardCharsets.UTF_8);
        assertThat(stages.put(key, dl.getStage())).as("dead-lettered twice: " + key).isNull();
      }
      assertThat(stages).isEqualTo(poison);
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  private static GenerationResult run(BatchingInferenceEngine engine, GenerationRequest request)
      throws Exception {
    return engine.submit(request).get(60, TimeUnit.SECONDS);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
