package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.inference.ImageEmbeddings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole catalog in memory, searched by brute force: every in-stock product is scored on every
 * search. One per application instance, written by the global-store thread and read by every stream
 * thread (a read-write lock; searches run in parallel).
 *
 * <p>Embeddings sit in one contiguous {@code float[]} ({@code slot * dim}), so a search is a single
 * pass of dot products over memory in order; attributes are interned {@code name=value} codes per
 * product, so agreement is a few integer comparisons. Removing a product moves the last slot into
 * its place. Cost per search: {@code O(products * dim)}; see the README for measured latencies and
 * the limit.
 *
 * <p>All vectors have one dimension, set by the first embedding indexed; an embedding of another
 * dimension (another model) is kept out of the index (its product is scored on attributes alone)
 * and logged.
 */
public final class CatalogIndex {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogIndex.class);

  private final AttributeVocabulary vocabulary;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, Integer> slots = new HashMap<>();
  private final Map<String, Integer> codes = new HashMap<>();
  private int size;
  private int dim = -1;
  private String[] ids = new String[16];
  private boolean[] inStock = new boolean[16];
  private int[][] attributeCodes = new int[16][];
  private Map<String, String>[] attributes = newMaps(16);
  private String[] versions = new String[16]; // null: no embedding in the index
  private float[] vectors = new float[0];

  /** An empty index normalising product attributes with {@code vocabulary}. */
  public CatalogIndex(AttributeVocabulary vocabulary) {
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
  }

  /**
   * A search.
   *
   * @param excludeProductId never returned (the uploaded product itself), or null
   * @param attributes the upload's canonical attributes by canonical name
   * @param embedding the upload's L2-normalised embedding, or null
   * @param modelVersion the embedding's model version: products embedded by another version are
   *     scored without similarity
   * @param topK most hits
   * @param attributeWeight weight of attribute agreement
   * @param embeddingWeight weight of cosine similarity
   * @param minScore hits score at least this
   */
  public record Query(
      String excludeProductId,
      Map<String, String> attributes,
      float[] embedding,
      String modelVersion,
      int topK,
      double attributeWeight,
      double embeddingWeight,
      double minScore) {
    public Query {
      // Kept in the caller's order: matched attributes and reasons follow it.
      attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }
  }

  /**
   * One recommended product.
   *
   * @param productId the product
   * @param score the blended score
   * @param similarity cosine similarity, or null when not computed (no embedding on either side, or
   *     another model version)
   * @param matched attribute names (canonical) whose values the product shares, in the query's
   *     order, with the shared value
   */
  public record Hit(
      String productId, double score, Double similarity, Map<String, String> matched) {}

  /**
   * What a search found and what it passed over.
   *
   * @param hits best first (ties by product id)
   * @param catalogSize products in the index
   * @param outOfStock products skipped because they are out of stock (the excluded one not counted)
   * @param candidates in-stock products scored
   */
  public record Result(List<Hit> hits, int catalogSize, int outOfStock, int candidates) {}

  /** Adds or replaces a product. */
  public void put(CatalogEntry entry) {
    Map<String, String> normalized = normalize(entry);
    int[] productCodes;
    lock.writeLock().lock();
    try {
      productCodes = intern(normalized);
      Integer slot = slots.get(entry.productId());
      if (slot == null) {
        slot = size++;
        ensureCapacity(size);
        slots.put(entry.productId(), slot);
      }
      ids[slot] = entry.productId();
      inStock[slot] = entry.inStock();
      attributeCodes[slot] = productCodes;
      attributes[slot] = normalized;
      versions[slot] = null;
      float[] v = entry.embedding();
      if (v != null) {
        if (dim < 0) {
          dim = v.length;
          vectors = new float[ids.length * dim];
        }
        if (v.length == dim) {
          System.arraycopy(v, 0, vectors, slot * dim, dim);
          versions[slot] = entry.modelVersion();
        } else {
          LOG.warn(
              "product {}: embedding of {} dimensions (model {}) left out of an index of {}",
              entry.productId(),
              v.length,
              entry.modelVersion(),
              dim);
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Removes a product; unknown ids are ignored. */
  public void remove(String productId) {
    lock.writeLock().lock();
    try {
      Integer slot = slots.remove(productId);
      if (slot == null) {
        return;
      }
      int last = --size;
      if (slot != last) {
        ids[slot] = ids[last];
        inStock[slot] = inStock[last];
        attributeCodes[slot] = attributeCodes[last];
        attributes[slot] = attributes[last];
        versions[slot] = versions[last];
        if (dim > 0) {
          System.arraycopy(vectors, last * dim, vectors, slot * dim, dim);
        }
        slots.put(ids[slot], slot);
      }
      ids[last] = null;
      attributeCodes[last] = null;
      attributes[last] = null;
      versions[last] = null;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Empties the index (before a rebuild from the store). */
  public void clear() {
    lock.writeLock().lock();
    try {
      slots.clear();
      codes.clear();
      size = 0;
      dim = -1;
      ids = new String[16];
      inStock = new boolean[16];
      attributeCodes = new int[16][];
      attributes = newMaps(16);
      versions = new String[16];
      vectors = new float[0];
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Products in the index. */
  public int size() {
    lock.readLock().lock();
    try {
      return size;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Whether the product is in the index. */
  public boolean contains(String productId) {
    lock.readLock().lock();
    try {
      return slots.containsKey(productId);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The canonical attributes of a catalog product as the index sees them (category included). */
  public Map<String, String> normalize(CatalogEntry entry) {
    Map<String, String> out = new LinkedHashMap<>();
    entry.attributes().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            a -> {
              String value = vocabulary.normalize(a.getKey(), a.getValue());
              if (value != null) {
                out.putIfAbsent(vocabulary.attributeName(a.getKey()), value);
              }
            });
    if (!out.containsKey(AttributeVocabulary.CATEGORY)) {
      String category = vocabulary.categoryOfPath(entry.category());
      if (category != null) {
        out.put(AttributeVocabulary.CATEGORY, category);
      }
    }
    return Map.copyOf(out);
  }

  /** Scores every in-stock product but the excluded one; see {@link Query}. */
  public Result search(Query q) {
    Comparator<Hit> worstFirst =
        Comparator.comparingDouble(Hit::score)
            .thenComparing(Hit::productId, Comparator.reverseOrder());
    PriorityQueue<Hit> best = new PriorityQueue<>(q.topK() + 1, worstFirst);
    lock.readLock().lock();
    try {
      List<String> names = new ArrayList<>(q.attributes().keySet());
      int[] wanted = new int[names.size()];
      for (int i = 0; i < wanted.length; i++) {
        wanted[i] = codes.getOrDefault(code(names.get(i), q.attributes().get(names.get(i))), -1);
      }
      float[] query = q.embedding();
      boolean useVectors = query != null && dim > 0 && query.length == dim;
      Integer excluded = q.excludeProductId() == null ? null : slots.get(q.excludeProductId());
      int skip = excluded == null ? -1 : excluded;
      int outOfStock = 0;
      int candidates = 0;
      for (int s = 0; s < size; s++) {
        if (s == skip) {
          continue;
        }
        if (!inStock[s]) {
          outOfStock++;
          continue;
        }
        candidates++;
        int matches = 0;
        int[] own = attributeCodes[s];
        for (int code : wanted) {
          if (code >= 0 && Arrays.binarySearch(own, code) >= 0) {
            matches++;
          }
        }
        double agreement = wanted.length == 0 ? 0 : (double) matches / wanted.length;
        boolean similar =
            useVectors
                && versions[s] != null
                && (versions[s] == q.modelVersion() || versions[s].equals(q.modelVersion()));
        if (matches == 0 && !similar) {
          continue; // nothing in common that we can measure: not a recommendation
        }
        double cosine = similar ? ImageEmbeddings.dot(query, vectors, s * dim) : 0;
        double score = q.attributeWeight() * agreement + q.embeddingWeight() * cosine;
        if (score < q.minScore()) {
          continue;
        }
        if (best.size() == q.topK()) {
          Hit worst = best.peek();
          if (score < worst.score()
              || (score == worst.score() && ids[s].compareTo(worst.productId()) > 0)) {
            continue;
          }
        }
        best.add(new Hit(ids[s], score, similar ? cosine : null, matched(s, q.attributes())));
        if (best.size() > q.topK()) {
          best.poll();
        }
      }
      List<Hit> hits = new ArrayList<>(best);
      hits.sort(worstFirst.reversed());
      return new Result(List.copyOf(hits), size, outOfStock, candidates);
    } finally {
      lock.readLock().unlock();
    }
  }

  private Map<String, String> matched(int slot, Map<String, String> wanted) {
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, String> own = attributes[slot];
    for (Map.Entry<String, String> w : wanted.entrySet()) {
      if (w.getValue().equals(own.get(w.getKey()))) {
        out.put(w.getKey(), w.getValue());
      }
    }
    return out;
  }

  private int[] intern(Map<String, String> normalized) {
    int[] out = new int[normalized.size()];
    int i = 0;
    for (Map.Entry<String, String> a : normalized.entrySet()) {
      out[i++] = codes.computeIfAbsent(code(a.getKey(), a.getValue()), k -> codes.size());
    }
    Arrays.sort(out);
    return out;
  }

  private static String code(String name, String value) {
    return name + '\u0000' + value;
  }

  private void ensureCapacity(int needed) {
    if (needed <= ids.length) {
      return;
    }
    int capacity = Math.max(needed, ids.length * 2);
    ids = Arrays.copyOf(ids, capacity);
    inStock = Arrays.copyOf(inStock, capacity);
    attributeCodes = Arrays.copyOf(attributeCodes, capacity);
    attributes = Arrays.copyOf(attributes, capacity);
    versions = Arrays.copyOf(versions, capacity);
    if (dim > 0) {
      vectors = Arrays.copyOf(vectors, capacity * dim);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String>[] newMaps(int n) {
    return (Map<String, String>[]) new Map<?, ?>[n];
  }
}
