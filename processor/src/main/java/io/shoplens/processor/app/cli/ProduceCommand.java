package io.shoplens.processor.app.cli;

import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.client.OutputWatcher;
import io.shoplens.processor.app.gateway.GenerationOptionsJson;
import io.shoplens.processor.app.gateway.GenerationOptionsJson.Field;
import io.shoplens.processor.topology.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shoplens produce}: publish one upload and its questions, then wait for the results. */
@Command(
    name = "produce",
    description = {
      "Publish an image upload and questions about it to a running ShopLens, then print the",
      "caption and the answers as they arrive. Questions form one conversation, in order.",
      "Exits 0 when the caption and every answer arrived, 1 on a dead letter or time-out."
    })
final class ProduceCommand extends CliCommand implements Callable<Integer> {
  @Option(
      names = {"-b", "--bootstrap"},
      required = true,
      paramLabel = "HOST:PORT",
      description = "Kafka brokers.")
  String bootstrap;

  @Option(
      names = {"-r", "--registry"},
      required = true,
      paramLabel = "URL",
      description = "Schema Registry URL.")
  String registry;

  @Option(
      names = {"-i", "--image"},
      required = true,
      paramLabel = "FILE|URL",
      description = {
        "An image file (sent inline), or an http(s) URL (sent as a reference: fetched here once",
        "for its sha256 and size; ShopLens fetches it again only from allow-listed hosts)."
      })
  String image;

  @Option(
      names = {"-q", "--question"},
      paramLabel = "TEXT",
      description = "A question about the image (repeatable; asked in order, one conversation).")
  List<String> questions = new ArrayList<>();

  @Option(
      names = "--user",
      defaultValue = "cli-user",
      description = "userId (default ${DEFAULT-VALUE}).")
  String user;

  @Option(names = "--product", description = "productId of the upload.")
  String product;

  @Option(
      names = "--caption-options",
      paramLabel = "JSON",
      description = {
        "How to caption this upload (ImageUploaded.captionOptions), in the HTTP API's",
        "generationOptions names, e.g. '{\"strategy\": \"beam\", \"numBeams\": 5}'."
      })
  String captionOptions;

  @Option(
      names = "--options",
      paramLabel = "JSON",
      description = "Generation options of every question (QuestionAsked.generationOptions).")
  String questionOptions;

  // Client security and registry credentials, read as every other command reads its settings.
  @Mixin ConfigOptions configOptions;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "120s",
      converter = DurationConverter.class,
      description = "How long to wait for all results (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = out();
    Map<String, Object> props =
        ConfigOptions.clientSettings(configOptions.merge().settings(), bootstrap, registry);

    // Options are checked before anything is read or sent: a typo costs no upload.
    GenerationOptions asked = options(Field.QUESTION, "--options", questionOptions);
    GenerationOptions caption = options(Field.CAPTION, "--caption-options", captionOptions);
    ImageUploaded upload = upload();
    upload.setCaptionOptions(caption);
    String uploadId = upload.getUploadId();
    String conversationId = questions.size() > 1 ? "conv-" + uploadId : null;
    Topics topics = Topics.create(props);

    try (OutputWatcher watcher = new OutputWatcher(props, false)) {
      Map<String, Object> producerProps = InputEvents.producerSettings(props);
      Set<String> pending = new LinkedHashSet<>();
      try (KafkaProducer<String, ImageUploaded> uploads =
              new KafkaProducer<>(
                  producerProps,
                  Topics.keySerde().serializer(),
                  topics.imageUploads().valueSerde().serializer());
          KafkaProducer<String, QuestionAsked> asks =
              new KafkaProducer<>(
                  producerProps,
                  Topics.keySerde().serializer(),
                  topics.questions().valueSerde().serializer())) {
        uploads.send(new ProducerRecord<>(Topics.IMAGE_UPLOADS, uploadId, upload)).get();
        out.println("published upload " + uploadId + " (" + image + ")");
        pending.add("caption");
        // Uploads and questions go through different producers: the upload is acknowledged
        // first, so ShopLens never needs to park these questions.
        int n = 0;
        for (String text : questions) {
          String questionId = uploadId + "-q" + (++n);
          QuestionAsked question =
              InputEvents.question(questionId, uploadId, user, conversationId, text);
          question.setGenerationOptions(asked);
          asks.send(new ProducerRecord<>(Topics.QUESTIONS, uploadId, question)).get();
          out.println("published question " + questionId + ": " + text);
          pending.add(questionId);
        }
      }
      return await(watcher, uploadId, pending, out);
    }
  }

  private int await(OutputWatcher watcher, String uploadId, Set<String> pending, PrintWriter out) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean deadLettered = false;
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      for (OutputWatcher.Output o : watcher.poll(Duration.ofMillis(200))) {
        if (!o.uploadId().equals(uploadId)) {
          continue;
        }
        out.println(o.describe());
        if (o instanceof OutputWatcher.Caption) {
          pending.remove("caption");
        } else if (o instanceof OutputWatcher.Answer a) {
          pending.remove(a.value().getQuestionId());
        } else if (o instanceof OutputWatcher.DeadLettered) {
          deadLettered = true;
          // Whatever failed will not produce its output: stop waiting for everything.
          pending.clear();
        }
      }
    }
    if (!pending.isEmpty()) {
      out.println(
          "timed out after " + timeout + " still waiting for: " + String.join(", ", pending));
      return ShopLensCli.FAILURE;
    }
    return deadLettered ? ShopLensCli.FAILURE : ShopLensCli.OK;
  }

  /** Options given as JSON on the command line, or null when the flag was not given. */
  private static GenerationOptions options(Field where, String flag, String json) {
    if (json == null) {
      return null;
    }
    return ShopLensCli.fromOptions(() -> GenerationOptionsJson.parseText(where, flag, json));
  }

  private ImageUploaded upload() throws IOException, InterruptedException {
    String uploadId = "cli-" + UUID.randomUUID();
    if (image.startsWith("http://") || image.startsWith("https://")) {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<byte[]> response =
          client.send(
              HttpRequest.newBuilder(URI.create(image)).timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new IOException(
            "GET " + image + ": HTTP " + response.statusCode() + ", expected 200");
      }
      String type =
          response
              .headers()
              .firstValue("Content-Type")
              .map(t -> t.split(";")[0].trim())
              .orElse(InputEvents.contentType(image));
      return InputEvents.referenceUpload(uploadId, user, product, image, response.body(), type);
    }
    Path file = Path.of(image);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ShopLensCli.UsageException("--image " + image + ": no such file");
    }
    return InputEvents.inlineUpload(
        uploadId, user, product, bytes, InputEvents.contentType(file.getFileName().toString()));
  }
}
