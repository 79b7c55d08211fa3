package io.shoplens.processor.app.client;

import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.inference.image.ImageDigest;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;

/** Builds the input events the command line publishes (demo and produce). */
public final class InputEvents {
  private InputEvents() {}

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
