package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.inference.retrieval.ImageFeatures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * An in-memory Apache Lucene HNSW index of items that each have one or more unit vectors (one
 * catalog embedding, or a retrieval model's Q query vectors), searched with the catalog's filters
 * (category, in stock, model version, an excluded item) applied inside the graph search.
 *
 * <p>Design (docs/recommendations.md "Vector index"): HNSW needs one vector per item, but the
 * similarity of a text to an image is the <em>maximum</em> over the image's Q query vectors. Each
 * item is therefore indexed by its <em>pooled</em> vector (the normalised mean of its vectors); a
 * search asks HNSW for the {@code candidates} nearest pooled vectors, then re-ranks those
 * candidates by the exact max-similarity over all their vectors and keeps the top k. Recall@10
 * against exact search is measured in {@code VectorIndexRecallTest}; with Q = 1 the pooled vector
 * is the vector and re-ranking only restores exact scores.
 *
 * <p>The full vectors stay on the heap for re-ranking ({@code items * Q * dim} floats) besides
 * Lucene's copy of the pooled vectors. Writes and searches may run on different threads: Lucene's
 * writer and searcher manager are thread-safe and a search first refreshes the searcher when
 * something was written since the last one.
 */
public final class VectorIndex implements AutoCloseable {
  private static final String ID = "id";
  private static final String VECTOR = "pooled";
  private static final String CATEGORY = "category";
  private static final String STOCK = "stock";
  private static final String VERSION = "version";

  /**
   * HNSW and re-ranking parameters.
   *
   * @param maxConnections HNSW graph degree (Lucene's M, default 16)
   * @param beamWidth HNSW construction beam (Lucene's default 100)
   * @param candidates pooled-vector neighbours fetched per search before re-ranking (at least k)
   * @param rerank whether candidates are re-ranked by exact max-similarity (off only to measure
   *     what re-ranking buys)
   */
  public record Options(int maxConnections, int beamWidth, int candidates, boolean rerank) {
    public Options {
      if (maxConnections < 2 || beamWidth < 2 || candidates < 1) {
        throw new IllegalArgumentException(
            "expected maxConnections >= 2, beamWidth >= 2 and candidates >= 1, got "
                + maxConnections
                + ", "
                + beamWidth
                + ", "
                + candidates);
      }
    }

    /** M = 16, beam 100, 200 candidates, re-ranking on. */
    public static Options defaults() {
      return new Options(16, 100, 200, true);
    }
  }

  /**
   * Which items a search may return; null fields do not filter.
   *
   * @param category only this category
   * @param inStockOnly only items in stock
   * @param modelVersion only items embedded by this model version
   * @param excludeId never this item
   */
  public record Filter(
      String category, boolean inStockOnly, String modelVersion, String excludeId) {
    /** No filter. */
    public static Filter none() {
      return new Filter(null, false, null, null);
    }
  }

  /**
   * One result.
   *
   * @param id the item
   * @param similarity exact max-similarity of the query with the item's vectors (re-ranked), or the
   *     pooled vector's dot product (re-ranking off)
   */
  public record Scored(String id, double similarity) {}

  private record Item(float[] vectors, int count) {}

  private final int dim;
  private final Options options;
  private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final Map<String, Item> items = new ConcurrentHashMap<>();
  private final AtomicBoolean dirty = new AtomicBoolean();

  /** An empty index of {@code dim}-dimensional unit vectors. */
  public VectorIndex(int dim, Options options) {
    if (dim < 1) {
      throw new IllegalArgumentException("expected a positive dimension, got " + dim);
    }
    this.dim = dim;
    this.options = options;
    KnnVectorsFormat format =
        new Lucene99HnswVectorsFormat(options.maxConnections(), options.beamWidth());
    IndexWriterConfig config =
        new IndexWriterConfig()
            .setCodec(
                new Lucene912Codec() {
                  @Override
                  public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                    return format;
                  }
                })
            // Large in-memory segments: fewer HNSW graphs to visit per search.
            .setRAMBufferSizeMB(256);
    try {
      writer = new IndexWriter(directory, config);
      searchers = new SearcherManager(writer, null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open an in-memory Lucene index", e);
    }
  }

  /** The dimension of every vector. */
  public int dim() {
    return dim;
  }

  /** Items in the index. */
  public int size() {
    return items.size();
  }

  /**
   * Adds or replaces an item.
   *
   * @param vectors {@code count * dim} floats, each row a unit vector
   */
  public void put(
      String id, float[] vectors, String category, boolean inStock, String modelVersion) {
    if (vectors.length == 0 || vectors.length % dim != 0) {
      throw new IllegalArgumentException(
          "item " + id + ": expected a multiple of " + dim + " floats, got " + vectors.length);
    }
    Document doc = new Document();
    doc.add(new StringField(ID, id, Field.Store.YES));
    doc.add(
        new KnnFloatVectorField(
            VECTOR, pooled(vectors, dim), VectorSimilarityFunction.DOT_PRODUCT));
    doc.add(new StringField(STOCK, inStock ? "1" : "0", Field.Store.NO));
    if (category != null) {
      doc.add(new StringField(CATEGORY, category, Field.Store.NO));
    }
    if (modelVersion != null) {
      doc.add(new StringField(VERSION, modelVersion, Field.Store.NO));
    }
    try {
      writer.updateDocument(new Term(ID, id), doc);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot index item " + id, e);
    }
    items.put(id, new Item(vectors.clone(), vectors.length / dim));
    dirty.set(true);
  }

  /** Removes an item; unknown ids are ignored. */
  public void remove(String id) {
    if (items.remove(id) == null) {
      return;
    }
    try {
      writer.deleteDocuments(new Term(ID, id));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove item " + id, e);
    }
    dirty.set(true);
  }

  /** Removes everything (before a rebuild). */
  public void clear() {
    try {
      writer.deleteAll();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear the index", e);
    }
    items.clear();
    dirty.set(true);
  }

  /** Merges to one segment (one HNSW graph): slower to build, faster to search. */
  public void optimize() {
    try {
      writer.forceMerge(1);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot merge the index", e);
    }
    dirty.set(true);
  }

  /** The item's vectors ({@code count * dim} floats), or null when it is not indexed. */
  public float[] vectors(String id) {
    Item item = items.get(id);
    return item == null ? null : item.vectors();
  }

  /**
   * Exact max-similarity of {@code query} with the item's vectors (the score {@link #search}
   * re-ranks by), or NaN when the item is not indexed.
   */
  public double similarity(float[] query, String id) {
    if (query.length != dim) {
      throw new IllegalArgumentException(
          "expected a " + dim + "-d query vector, got " + query.length);
    }
    Item item = items.get(id);
    return item == null ? Double.NaN : maxSimilarity(query, item);
  }

  /**
   * The {@code k} items most similar to {@code query} (a unit vector) among those passing {@code
   * filter}, best first (ties by id).
   */
  public List<Scored> search(float[] query, int k, Filter filter) {
    if (query.length != dim) {
      throw new IllegalArgumentException(
          "expected a " + dim + "-d query vector, got " + query.length);
    }
    if (k <= 0 || items.isEmpty()) {
      return List.of();
    }
    int fetch = options.rerank() ? Math.max(k, options.candidates()) : k;
    List<Scored> found = new ArrayList<>(fetch);
    try {
      refresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        TopDocs top =
            searcher.search(new KnnFloatVectorQuery(VECTOR, query, fetch, query(filter)), fetch);
        StoredFields stored = searcher.storedFields();
        for (ScoreDoc hit : top.scoreDocs) {
          String id = stored.document(hit.doc, Set.of(ID)).get(ID);
          Item item = items.get(id);
          if (item == null) {
            continue; // removed since the searcher was refreshed
          }
          // Lucene's DOT_PRODUCT score is (1 + dot) / 2.
          double score = options.rerank() ? maxSimilarity(query, item) : 2 * (double) hit.score - 1;
          found.add(new Scored(id, score));
        }
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("vector search failed", e);
    }
    found.sort(Comparator.comparingDouble(Scored::similarity).reversed().thenComparing(Scored::id));
    return found.size() > k ? List.copyOf(found.subList(0, k)) : List.copyOf(found);
  }

  /** Exact search by max-similarity over every item passing {@code filter} (for measurements). */
  public List<Scored> exactSearch(float[] query, int k, Predicate<String> filter) {
    List<Scored> all = new ArrayList<>();
    for (Map.Entry<String, Item> e : items.entrySet()) {
      if (filter.test(e.getKey())) {
        all.add(new Scored(e.getKey(), maxSimilarity(query, e.getValue())));
      }
    }
    all.sort(Comparator.comparingDouble(Scored::similarity).reversed().thenComparing(Scored::id));
    return List.copyOf(all.subList(0, Math.min(k, all.size())));
  }

  @Override
  public void close() {
    try {
      searchers.close();
      writer.close();
      directory.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the index", e);
    }
  }

  private void refresh() throws IOException {
    if (dirty.getAndSet(false)) {
      searchers.maybeRefreshBlocking();
    }
  }

  private static Query query(Filter f) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER);
    if (f.category() != null) {
      b.add(new TermQuery(new Term(CATEGORY, f.category())), BooleanClause.Occur.FILTER);
    }
    if (f.inStockOnly()) {
      b.add(new TermQuery(new Term(STOCK, "1")), BooleanClause.Occur.FILTER);
    }
    if (f.modelVersion() != null) {
      b.add(new TermQuery(new Term(VERSION, f.modelVersion())), BooleanClause.Occur.FILTER);
    }
    if (f.excludeId() != null) {
      b.add(new TermQuery(new Term(ID, f.excludeId())), BooleanClause.Occur.MUST_NOT);
    }
    return b.build();
  }

  private double maxSimilarity(float[] query, Item item) {
    double best = Double.NEGATIVE_INFINITY;
    float[] v = item.vectors();
    for (int q = 0; q < item.count(); q++) {
      double dot = 0;
      int base = q * dim;
      for (int d = 0; d < dim; d++) {
        dot += query[d] * v[base + d];
      }
      best = Math.max(best, dot);
    }
    return best;
  }

  /** The normalised mean of the rows of {@code dim} floats; a single row is taken as it is. */
  static float[] pooled(float[] vectors, int dim) {
    return vectors.length == dim ? vectors.clone() : ImageFeatures.pooled(vectors, dim);
  }
}
