package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * What this gateway instance knows about recent uploads: which exist, their questions, and the
 * results ShopLens published for them. Bounded (at most {@code maxUploads}, oldest dropped first)
 * and time-limited (an upload untouched for {@code ttl} is dropped); a dropped upload reads as
 * unknown. Thread-safe: one feed thread writes, HTTP threads read and subscribe.
 */
final class ResultsView {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  // A subscriber that falls this far behind is cut off rather than let memory grow.
  private static final int SUBSCRIBER_BACKLOG = 1_000;
  private static final int MAX_PRODUCTS = 1_000_000;

  /** One Server-Sent Event: its name ({@code caption}, {@code answer}, ...) and JSON data. */
  record Event(String name, String data) {}

  private static final class Upload {
    final String uploadId;
    long touchedAt;
    ObjectNode caption;
    ObjectNode recommendations;
    final Map<String, ObjectNode> questions = new LinkedHashMap<>();
    final List<ObjectNode> deadLetters = new ArrayList<>();
    final Set<BlockingQueue<Event>> subscribers = new CopyOnWriteArraySet<>();

    Upload(String uploadId, long now) {
      this.uploadId = uploadId;
      this.touchedAt = now;
    }
  }

  private final Clock clock;
  private final Duration ttl;
  private final int maxUploads;
  // Insertion-ordered, so the eldest entry is the first to drop when full.
  private final LinkedHashMap<String, Upload> uploads = new LinkedHashMap<>();
  private final Map<String, String> questionToUpload = new LinkedHashMap<>();
  // productId -> product, for the recommendation cards; bounded like the uploads.
  private final LinkedHashMap<String, ObjectNode> products = new LinkedHashMap<>();

  ResultsView(Clock clock, Duration ttl, int maxUploads) {
    this.clock = clock;
    this.ttl = ttl;
    this.maxUploads = maxUploads;
  }

  /** An upload exists (published here, or seen on the uploads topic). */
  synchronized void uploadAccepted(String uploadId) {
    upload(uploadId);
  }

  /** A question exists. */
  synchronized void questionAsked(String questionId, String uploadId, String text) {
    Upload u = upload(uploadId);
    ObjectNode q = u.questions.computeIfAbsent(questionId, id -> newQuestion(id, uploadId));
    q.put("text", text);
    questionToUpload.put(questionId, uploadId);
  }

  synchronized void captioned(String uploadId, ObjectNode caption) {
    Upload u = upload(uploadId);
    u.caption = caption;
    publish(u, new Event("caption", caption.toString()));
  }

  synchronized void answered(String uploadId, String questionId, ObjectNode answer) {
    Upload u = upload(uploadId);
    ObjectNode q = u.questions.computeIfAbsent(questionId, id -> newQuestion(id, uploadId));
    q.put("status", "answered");
    q.set("answer", answer);
    questionToUpload.put(questionId, uploadId);
    publish(u, new Event("answer", q.toString()));
  }

  /** A catalog product changed; null: it was deleted. */
  synchronized void product(String productId, ObjectNode product) {
    products.remove(productId);
    if (product != null) {
      products.put(productId, product);
      if (products.size() > MAX_PRODUCTS) {
        products.remove(products.keySet().iterator().next());
      }
    }
  }

  /** Recommendations arrived; each ranked product gets its card ({@link #addProductCards}). */
  synchronized void recommended(String uploadId, ObjectNode recommendations) {
    Upload u = upload(uploadId);
    addProductCards(recommendations);
    u.recommendations = recommendations;
    publish(u, new Event("recommendations", recommendations.toString()));
  }

  /**
   * Gives each ranked product in {@code ranking.products} the catalog's {@code product} (title,
   * stock, image) when the catalog names it, so a page can draw a card without a second request.
   */
  synchronized void addProductCards(ObjectNode ranking) {
    for (JsonNode ranked : ranking.path("products")) {
      ObjectNode product = products.get(ranked.path("productId").asText());
      if (product != null && ranked instanceof ObjectNode card) {
        card.set("product", product.deepCopy());
      }
    }
  }

  synchronized void deadLettered(String uploadId, ObjectNode deadLetter) {
    Upload u = upload(uploadId);
    u.deadLetters.add(deadLetter);
    publish(u, new Event("dead-letter", deadLetter.toString()));
  }

  synchronized boolean knows(String uploadId) {
    expire();
    return uploads.containsKey(uploadId);
  }

  /** The upload's state as JSON; empty when unknown. */
  synchronized Optional<ObjectNode> snapshot(String uploadId) {
    expire();
    Upload u = uploads.get(uploadId);
    return u == null ? Optional.empty() : Optional.of(snapshot(u));
  }

  /** The question and its answer when there is one; empty when unknown. */
  synchronized Optional<ObjectNode> question(String questionId) {
    expire();
    String uploadId = questionToUpload.get(questionId);
    Upload u = uploadId == null ? null : uploads.get(uploadId);
    return u == null ? Optional.empty() : Optional.ofNullable(u.questions.get(questionId));
  }

  /**
   * Subscribes to an upload's events: the queue first holds what already arrived (caption, answers,
   * recommendations, dead letters), then each new event. Empty when the upload is unknown.
   */
  synchronized Optional<BlockingQueue<Event>> subscribe(String uploadId) {
    expire();
    Upload u = uploads.get(uploadId);
    if (u == null) {
      return Optional.empty();
    }
    BlockingQueue<Event> queue = new LinkedBlockingQueue<>(SUBSCRIBER_BACKLOG);
    if (u.caption != null) {
      queue.add(new Event("caption", u.caption.toString()));
    }
    for (ObjectNode q : u.questions.values()) {
      if (q.has("answer")) {
        queue.add(new Event("answer", q.toString()));
      }
    }
    if (u.recommendations != null) {
      queue.add(new Event("recommendations", u.recommendations.toString()));
    }
    u.deadLetters.forEach(d -> queue.add(new Event("dead-letter", d.toString())));
    u.subscribers.add(queue);
    return Optional.of(queue);
  }

  synchronized void unsubscribe(String uploadId, BlockingQueue<Event> queue) {
    Upload u = uploads.get(uploadId);
    if (u != null) {
      u.subscribers.remove(queue);
    }
  }

  synchronized int size() {
    return uploads.size();
  }

  private Upload upload(String uploadId) {
    expire();
    long now = clock.millis();
    Upload u = uploads.computeIfAbsent(uploadId, id -> new Upload(id, now));
    u.touchedAt = now;
    while (uploads.size() > maxUploads) {
      drop(uploads.entrySet().iterator());
    }
    return u;
  }

  private void expire() {
    long oldest = clock.millis() - ttl.toMillis();
    Iterator<Map.Entry<String, Upload>> it = uploads.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Upload> e = it.next();
      if (e.getValue().touchedAt < oldest) {
        e.getValue().questions.keySet().forEach(questionToUpload::remove);
        it.remove();
      }
    }
  }

  private void drop(Iterator<Map.Entry<String, Upload>> it) {
    Upload eldest = it.next().getValue();
    eldest.questions.keySet().forEach(questionToUpload::remove);
    it.remove();
  }

  private static void publish(Upload u, Event event) {
    for (BlockingQueue<Event> q : u.subscribers) {
      if (!q.offer(event)) {
        // A stalled client: stop feeding it; its stream ends and the browser reconnects.
        u.subscribers.remove(q);
      }
    }
  }

  private static ObjectNode newQuestion(String questionId, String uploadId) {
    ObjectNode q = NODES.objectNode();
    q.put("questionId", questionId);
    q.put("uploadId", uploadId);
    q.put("status", "pending");
    return q;
  }

  private static ObjectNode snapshot(Upload u) {
    ObjectNode out = NODES.objectNode();
    out.put("uploadId", u.uploadId);
    out.put("status", u.caption == null ? "pending" : "captioned");
    out.set("caption", u.caption == null ? NODES.nullNode() : u.caption.deepCopy());
    out.set(
        "recommendations",
        u.recommendations == null ? NODES.nullNode() : u.recommendations.deepCopy());
    ArrayNode questions = out.putArray("questions");
    u.questions.values().forEach(q -> questions.add(q.deepCopy()));
    ArrayNode dead = out.putArray("deadLetters");
    u.deadLetters.forEach(d -> dead.add(d.deepCopy()));
    return out;
  }
}
