package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A question's {@code generationOptions}, or an upload's {@code captionOptions}, from JSON into the
 * Avro {@link GenerationOptions} that {@code QuestionAsked} and {@code ImageUploaded} carry. The
 * names are the schema's (Hugging Face's GenerationConfig, camel-cased), read from the schema
 * itself so that a field added to it is accepted here too. Each value's JSON type is checked; an
 * unknown name is refused rather than ignored, so that a misspelt option ({@code top_k}) does not
 * silently fall back to the default. Ranges and combinations are not checked here: {@link
 * io.shoplens.processor.topology.QuestionDecoding} does that, as the topology will.
 */
public final class GenerationOptionsJson {
  /**
   * Where a request carries options: the JSON field, named in every refusal so that a client that
   * sends both kinds knows which one was wrong, and the error code of the 400.
   */
  public enum Field {
    QUESTION("generationOptions", "invalid_generation_options"),
    CAPTION("captionOptions", "invalid_caption_options");

    final String json;
    final String code;

    Field(String json, String code) {
      this.json = json;
      this.code = code;
    }

    ApiError refused(String message) {
      return new ApiError(400, code, message);
    }
  }

  private static final Schema SCHEMA = GenerationOptions.getClassSchema();

  private GenerationOptionsJson() {}

  /** A question's options: {@link #parse(Field, JsonNode)} for {@link Field#QUESTION}. */
  static GenerationOptions parse(JsonNode node) {
    return parse(Field.QUESTION, node);
  }

  /**
   * The options in {@code node}, or null when it is absent or JSON null.
   *
   * @param where the field {@code node} came from, named in the messages
   * @throws ApiError 400 with {@code where}'s code, naming the option, the expected type and what
   *     came instead
   */
  static GenerationOptions parse(Field where, JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw where.refused(where.json + " must be a JSON object, got " + describe(node));
    }
    GenerationOptions options = new GenerationOptions();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Schema.Field field = SCHEMA.getField(e.getKey());
      if (field == null) {
        throw where.refused(
            where.json
                + " has no option '"
                + e.getKey()
                + "'; expected one of "
                + String.join(", ", names()));
      }
      if (!e.getValue().isNull()) {
        options.put(field.pos(), value(where, field, e.getValue()));
      }
    }
    return options;
  }

  /**
   * The options in a JSON text, for clients other than HTTP (the command line), with the rules and
   * messages of {@link #parse}.
   *
   * @param where which options these are (a question's or a caption's), named in the message
   * @param what names the options' source in the message (e.g. {@code --caption-options})
   * @throws IllegalArgumentException for text that is not JSON, or options {@link #parse} refuses
   */
  public static GenerationOptions parseText(Field where, String what, String json) {
    JsonNode node;
    try {
      node = new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          what
              + ": expected a JSON object such as {\"strategy\": \"beam\", \"numBeams\": 5}, got "
              + json);
    }
    try {
      return parse(where, node);
    } catch (ApiError e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
  }

  /** The option names, in the schema's order. */
  static List<String> names() {
    return SCHEMA.getFields().stream().map(Schema.Field::name).toList();
  }

  /** The strategy names a client may send: the schema's symbols but the reader's UNKNOWN. */
  static List<String> strategies() {
    List<String> out = new ArrayList<>();
    for (DecodingStrategy s : DecodingStrategy.values()) {
      if (s != DecodingStrategy.UNKNOWN) {
        out.add(s.name().toLowerCase(Locale.ROOT));
      }
    }
    return out;
  }

  private static Object value(Field in, Schema.Field field, JsonNode v) {
    String where = in.json + "." + field.name();
    Schema type = nonNull(field.schema());
    switch (type.getType()) {
      case INT -> {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
          throw in.refused(where + ": expected a 32-bit integer, got " + describe(v));
        }
        return v.intValue();
      }
      case LONG -> {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
          throw in.refused(where + ": expected a 64-bit integer, got " + describe(v));
        }
        return v.longValue();
      }
      case DOUBLE -> {
        if (!v.isNumber()) {
          throw in.refused(where + ": expected a number, got " + describe(v));
        }
        return v.doubleValue();
      }
      case BOOLEAN -> {
        if (!v.isBoolean()) {
          throw in.refused(where + ": expected true or false, got " + describe(v));
        }
        return v.booleanValue();
      }
      case ENUM -> {
        if (!type.getFullName().equals(DecodingStrategy.getClassSchema().getFullName())) {
          throw unreadable(field, type);
        }
        String name = v.isTextual() ? v.asText().toLowerCase(Locale.ROOT) : "";
        if (!strategies().contains(name)) {
          throw in.refused(
              where
                  + ": expected one of "
                  + String.join(", ", strategies())
                  + ", got "
                  + describe(v));
        }
        return DecodingStrategy.valueOf(name.toUpperCase(Locale.ROOT));
      }
      default -> throw unreadable(field, type);
    }
  }

  // A schema change this class does not know how to read: a defect, not a client's mistake.
  private static IllegalStateException unreadable(Schema.Field field, Schema type) {
    return new IllegalStateException(
        "GenerationOptions field " + field.name() + " has a type the gateway cannot read: " + type);
  }

  private static Schema nonNull(Schema s) {
    if (s.getType() != Schema.Type.UNION) {
      return s;
    }
    return s.getTypes().stream()
        .filter(t -> t.getType() != Schema.Type.NULL)
        .findFirst()
        .orElseThrow();
  }

  private static String describe(JsonNode v) {
    String text = v.toString();
    return text.length() > 40 ? text.substring(0, 40) + "..." : text;
  }
}
