package io.shoplens.processor.app.client;

import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.inference.image.ImageDigest;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Builds the input events the command line publishes (demo and produce), and the settings of the
 * producers that publish them (produce and the gateway).
 */
public final class InputEvents {
  private InputEvents() {}

  /**
   * The settings of a producer of ShopLens's input topics: the client's producer settings, acks
   * from every in-sync replica with idempotence (an acknowledged upload is one ShopLens will see,
   * once), and requests as large as the uploads topic's {@code max.message.bytes}, so that an
   * inline image up to that limit is sent rather than refused by the producer.
   *
   * @param clientProps cluster, security and serde settings; only the producer's are kept
   * @return a new mutable map
   */
  public static Map<String, Object> producerSettings(Map<String, ?> clientProps) {
    Map<String, Object> props = KafkaClientConfigs.producer(clientProps);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicAdmin.LARGE_MESSAGE_BYTES);
    return props;
  }

  /** An upload carrying its image inline. */
  public static ImageUploaded inlineUpload(
      String uploadId, String userId, String productId, byte[] image, String contentType) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId(userId)
        .setProductId(productId)
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(image))
                .setContentType(contentType)
                .build())
        .setUploadedAt(Instant.now())
        .build();
  }

  /** An upload referring to an image by URI, with the digest and size ShopLens will check. */
  public static ImageUploaded referenceUpload(
      String uploadId,
      String userId,
      String productId,
      String uri,
      byte[] image,
      String contentType) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId(userId)
        .setProductId(productId)
        .setImage(
            ImageReference.newBuilder()
                .setUri(uri)
                .setSha256(ImageDigest.sha256Hex(image))
                .setContentType(contentType)
                .setSizeBytes(image.length)
                .build())
        .setUploadedAt(Instant.now())
        .build();
  }

  /** A question, optionally part of a conversation. */
  public static QuestionAsked question(
      String questionId, String uploadId, String userId, String conversationId, String text) {
    return QuestionAsked.newBuilder()
        .setQuestionId(questionId)
        .setUploadId(uploadId)
        .setUserId(userId)
        .setConversationId(conversationId)
        .setText(text)
        .setAskedAt(Instant.now())
        .build();
  }

  /** Media type from a file name's extension; application/octet-stream when unknown. */
  public static String contentType(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(".jpg") || n.endsWith(".jpeg")) {
      return "image/jpeg";
    }
    if (n.endsWith(".png")) {
      return "image/png";
    }
    if (n.endsWith(".webp")) {
      return "image/webp";
    }
    if (n.endsWith(".gif")) {
      return "image/gif";
    }
    if (n.endsWith(".bmp")) {
      return "image/bmp";
    }
    return "application/octet-stream";
  }
}
