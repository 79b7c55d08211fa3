package io.shoplens.processor.topology.recommend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole catalog in memory. One per application instance, written by the global-store thread and
 * read by every stream thread (a read-write lock; searches run in parallel); rebuilt from the
 * global catalog store on start-up and restore.
 *
 * <p>A search no longer scores every product. Its candidates are (1) the in-stock products of the
 * query's model version whose embeddings are nearest the query's, found by Lucene's HNSW graph
 * ({@link VectorIndex}, filters applied inside the graph search, {@code candidates} of them), and
 * (2) the in-stock products sharing at least one of the query's attribute values (an inverted index
 * of interned {@code name=value} codes). Every candidate then gets the exact blended score
 * (attribute agreement and exact cosine), so the ranking among candidates is the brute-force one;
 * what is approximate is only which similar products become candidates. See the README for measured
 * latencies and recall.
 *
 * <p>All vectors have one dimension: the configured {@code vectorDim} (a retrieval model's D: each
 * product then has its Q query vectors, {@code Q * D} floats, and similarity is the maximum over
 * them, see {@link VectorIndex}), or else the length of the first embedding indexed (one vector per
 * product). An embedding that does not fit (another model) is kept out of the index (its product is
 * scored on attributes alone) and logged.
 *
 * <p>Besides recommendations, the index answers product searches by vectors ({@link
 * #searchVectors}): by a text feature, an image feature, or both, with the category and stock
 * filters applied inside the HNSW search.
 */
public final class CatalogIndex {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogIndex.class);

  /** The canonical attribute name of a product's colour (the vocabulary aliases color to it). */
  public static final String COLOUR = "colour";

  private final AttributeVocabulary vocabulary;
  private final VectorIndex.Options vectorOptions;
  private final int vectorDim; // 0: one vector per product, of the first embedding's length
  private final Map<String, Integer> embeddedByVersion = new HashMap<>();
  private final Map<Integer, Set<String>> byCode = new HashMap<>();
  private int inStockCount;
  private VectorIndex vectorIndex; // created with the first embedding's dimension
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
  private String[] titles = new String[16];

  /** An empty index normalising product attributes with {@code vocabulary}. */
  public CatalogIndex(AttributeVocabulary vocabulary) {
    this(vocabulary, VectorIndex.Options.defaults(), 0);
  }

  /**
   * An empty index with the given HNSW and candidate options, whose products each have several
   * vectors of {@code vectorDim} floats (a retrieval model's query vectors); 0 for one vector per
   * product.
   */
  public CatalogIndex(
      AttributeVocabulary vocabulary, VectorIndex.Options vectorOptions, int vectorDim) {
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    this.vectorOptions = Objects.requireNonNull(vectorOptions, "vectorOptions");
    if (vectorDim < 0) {
      throw new IllegalArgumentException("expected vectorDim >= 0, got " + vectorDim);
    }
    this.vectorDim = vectorDim;
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

  /**
   * A search by vectors; at least one of {@code text} and {@code image} is given.
   *
   * @param text a text feature (unit vector), or null
   * @param image an image's pooled feature (unit vector), or null
   * @param modelVersion only products whose vectors come from this model version
   * @param category only products of this canonical category, or null for any
   * @param inStockOnly only products in stock
   * @param limit most hits
   */
  public record VectorQuery(
      float[] text,
      float[] image,
      String modelVersion,
      String category,
      boolean inStockOnly,
      int limit) {
    public VectorQuery {
      Objects.requireNonNull(modelVersion, "modelVersion");
      if (text == null && image == null) {
        throw new IllegalArgumentException("a vector query needs a text or an image vector");
      }
      if (limit < 1) {
        throw new IllegalArgumentException("expected limit >= 1, got " + limit);
      }
    }
  }

  /**
   * One product found by vectors.
   *
   * @param score the text or image similarity; with both, their mean
   * @param textSimilarity max-similarity of the text with the product's vectors, or null
   * @param imageSimilarity max-similarity of the image with the product's vectors, or null
   * @param title the product's title
   * @param category its canonical category, or null
   * @param colour its canonical colour, or null
   * @param inStock whether it is in stock
   */
  public record VectorHit(
      String productId,
      double score,
      Double textSimilarity,
      Double imageSimilarity,
      String title,
      String category,
      String colour,
      boolean inStock) {}

  /** Adds or replaces a product. */
  public void put(CatalogEntry entry) {
    lock.writeLock().lock();
    try {
      Runnable insert = record(entry);
      if (insert != null) {
        insert.run();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * {@link #put} for products with distinct ids (a store's keys), inserting their vectors (most of
   * a rebuild's cost: 1.4 ms of CPU a 256-d product at 1M) from every thread of {@code pool}.
   *
   * @throws ExecutionException when an insert failed (its cause)
   */
  public void putAll(Iterator<CatalogEntry> entries, ExecutorService pool)
      throws InterruptedException, ExecutionException {
    while (entries.hasNext()) {
      List<Callable<Object>> chunk = new ArrayList<>();
      lock.writeLock().lock();
      try {
        while (chunk.size() < 1024 && entries.hasNext()) {
          Runnable insert = record(entries.next());
          if (insert != null) {
            chunk.add(Executors.callable(insert));
          }
        }
        for (Future<Object> done : pool.invokeAll(chunk)) {
          done.get();
        }
      } finally {
        lock.writeLock().unlock();
      }
    }
  }

  /** put's bookkeeping, under the write lock; returns the vector insertion left to run, or null. */
  private Runnable record(CatalogEntry entry) {
    Map<String, String> normalized = normalize(entry);
    int[] productCodes = intern(normalized);
    Integer slot = slots.get(entry.productId());
    if (slot == null) {
      slot = size++;
      ensureCapacity(size);
      slots.put(entry.productId(), slot);
    } else {
      forget(slot);
    }
    if (entry.inStock()) {
      inStockCount++;
    }
    for (int code : productCodes) {
      byCode.computeIfAbsent(code, c -> new HashSet<>()).add(entry.productId());
    }
    ids[slot] = entry.productId();
    titles[slot] = entry.title();
    inStock[slot] = entry.inStock();
    attributeCodes[slot] = productCodes;
    attributes[slot] = normalized;
    versions[slot] = null;
    float[] v = entry.embedding();
    if (v != null) {
      if (dim < 0) {
        dim = vectorDim > 0 ? vectorDim : v.length;
        vectorIndex = new VectorIndex(dim, vectorOptions);
      }
      boolean fits = vectorDim > 0 ? v.length > 0 && v.length % dim == 0 : v.length == dim;
      if (fits) {
        versions[slot] = entry.modelVersion();
        embeddedByVersion.merge(entry.modelVersion(), 1, Integer::sum);
        VectorIndex target = vectorIndex;
        String category = normalized.get(AttributeVocabulary.CATEGORY);
        return () ->
            target.put(entry.productId(), v, category, entry.inStock(), entry.modelVersion());
      }
      LOG.warn(
          "product {}: embedding of {} dimensions (model {}) left out of an index of {}",
          entry.productId(),
          v.length,
          entry.modelVersion(),
          dim);
    }
    return null;
  }

  /** Removes a product; unknown ids are ignored. */
  public void remove(String productId) {
    lock.writeLock().lock();
    try {
      Integer slot = slots.remove(productId);
      if (slot == null) {
        return;
      }
      forget(slot);
      int last = --size;
      if (slot != last) {
        ids[slot] = ids[last];
        titles[slot] = titles[last];
        inStock[slot] = inStock[last];
        attributeCodes[slot] = attributeCodes[last];
        attributes[slot] = attributes[last];
        versions[slot] = versions[last];
        slots.put(ids[slot], slot);
      }
      ids[last] = null;
      titles[last] = null;
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
      titles = new String[16];
      inStock = new boolean[16];
      attributeCodes = new int[16][];
      attributes = newMaps(16);
      versions = new String[16];
      byCode.clear();
      embeddedByVersion.clear();
      inStockCount = 0;
      if (vectorIndex != null) {
        vectorIndex.close();
        vectorIndex = null;
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Products in the index. */
  public int size() {
    return read(() -> size);
  }

  /** Whether the product is in the index. */
  public boolean contains(String productId) {
    return read(() -> slots.containsKey(productId));
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

  /**
   * Scores the candidates (nearest embeddings and products sharing an attribute value) among the
   * in-stock products but the excluded one; see {@link Query} and the class comment.
   */
  public Result search(Query q) {
    Comparator<Hit> worstFirst =
        Comparator.comparingDouble(Hit::score)
            .thenComparing(Hit::productId, Comparator.reverseOrder());
    PriorityQueue<Hit> best = new PriorityQueue<>(q.topK() + 1, worstFirst);
    lock.readLock().lock();
    try {
      List<String> names = new ArrayList<>(q.attributes().keySet());
      int[] wanted = new int[names.size()];
      Set<String> candidateIds = new HashSet<>();
      for (int i = 0; i < wanted.length; i++) {
        wanted[i] = codes.getOrDefault(code(names.get(i), q.attributes().get(names.get(i))), -1);
        if (wanted[i] >= 0) {
          candidateIds.addAll(byCode.getOrDefault(wanted[i], Set.of()));
        }
      }
      float[] query = q.embedding();
      boolean useVectors = query != null && dim > 0 && query.length == dim;
      if (useVectors && q.modelVersion() != null) {
        VectorIndex.Filter filter =
            new VectorIndex.Filter(null, true, q.modelVersion(), q.excludeProductId());
        for (VectorIndex.Scored s : vectorIndex.search(query, vectorOptions.candidates(), filter)) {
          candidateIds.add(s.id());
        }
      }
      Integer excluded = q.excludeProductId() == null ? null : slots.get(q.excludeProductId());
      int skip = excluded == null ? -1 : excluded;
      int outOfStock = size - inStockCount;
      int candidates = inStockCount;
      if (excluded != null) {
        if (inStock[skip]) {
          candidates--;
        } else {
          outOfStock--;
        }
      }
      for (String id : candidateIds) {
        int s = slots.get(id);
        if (s == skip || !inStock[s]) {
          continue;
        }
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
        double cosine = similar ? vectorIndex.similarity(query, id) : 0;
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

  /** Products whose vectors come from {@code modelVersion} (what a vector search can find). */
  public int embedded(String modelVersion) {
    return read(() -> embeddedByVersion.getOrDefault(modelVersion, 0));
  }

  /**
   * The canonical category that {@code text} names in the vocabulary (the category itself or a
   * synonym, for example trainers for sneakers), or null when it names none.
   */
  public String canonicalCategory(String text) {
    return text == null ? null : vocabulary.normalize(AttributeVocabulary.CATEGORY, text);
  }

  /**
   * Searches by vectors, with the query's filters applied inside the HNSW search.
   *
   * <p>One vector: the {@code limit} best products by exact max-similarity among the HNSW
   * candidates of that vector ({@link VectorIndex#search}). Both vectors: the candidates of each
   * are pooled, every one of them gets both exact similarities, and they are ranked by their mean.
   * Ties go to the smaller product id.
   */
  public List<VectorHit> searchVectors(VectorQuery q) {
    lock.readLock().lock();
    try {
      if (vectorIndex == null) {
        return List.of();
      }
      for (float[] v : new float[][] {q.text(), q.image()}) {
        if (v != null && v.length != dim) {
          throw new IllegalArgumentException(
              "expected " + dim + "-d query vectors, got " + v.length);
        }
      }
      VectorIndex.Filter filter =
          new VectorIndex.Filter(q.category(), q.inStockOnly(), q.modelVersion(), null);
      boolean both = q.text() != null && q.image() != null;
      int fetch = both ? Math.max(q.limit(), vectorOptions.candidates()) : q.limit();
      Set<String> found = new LinkedHashSet<>();
      for (float[] v : new float[][] {q.text(), q.image()}) {
        if (v != null) {
          vectorIndex.search(v, fetch, filter).forEach(s -> found.add(s.id()));
        }
      }
      List<VectorHit> hits = new ArrayList<>(found.size());
      for (String id : found) {
        Integer slot = slots.get(id);
        if (slot == null) {
          continue;
        }
        Double text = q.text() == null ? null : vectorIndex.similarity(q.text(), id);
        Double image = q.image() == null ? null : vectorIndex.similarity(q.image(), id);
        double score = both ? (text + image) / 2 : text != null ? text : image;
        Map<String, String> own = attributes[slot];
        hits.add(
            new VectorHit(
                id,
                score,
                text,
                image,
                titles[slot],
                own.get(AttributeVocabulary.CATEGORY),
                own.get(COLOUR),
                inStock[slot]));
      }
      hits.sort(
          Comparator.comparingDouble(VectorHit::score)
              .reversed()
              .thenComparing(VectorHit::productId));
      return List.copyOf(hits.subList(0, Math.min(q.limit(), hits.size())));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Takes the product in {@code slot} out of the stock count, attribute and vector indexes. */
  private void forget(int slot) {
    String id = ids[slot];
    if (inStock[slot]) {
      inStockCount--;
    }
    for (int code : attributeCodes[slot]) {
      Set<String> holders = byCode.get(code);
      if (holders != null) {
        holders.remove(id);
      }
    }
    if (vectorIndex != null) {
      vectorIndex.remove(id);
    }
    if (versions[slot] != null) {
      embeddedByVersion.computeIfPresent(versions[slot], (v, n) -> n == 1 ? null : n - 1);
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
    titles = Arrays.copyOf(titles, capacity);
    inStock = Arrays.copyOf(inStock, capacity);
    attributeCodes = Arrays.copyOf(attributeCodes, capacity);
    attributes = Arrays.copyOf(attributes, capacity);
    versions = Arrays.copyOf(versions, capacity);
  }

  private <T> T read(Supplier<T> reader) {
    lock.readLock().lock();
    try {
      return reader.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String>[] newMaps(int n) {
    return (Map<String, String>[]) new Map<?, ?>[n];
  }
}
