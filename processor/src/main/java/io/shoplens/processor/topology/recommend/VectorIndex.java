package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.inference.retrieval.ImageFeatures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.BytesRef;

/**
 * An in-memory Apache Lucene HNSW index of items that each have one or more unit vectors (one
 * catalog embedding, or a retrieval model's Q query vectors), searched with the catalog's filters
 * (category, in stock, model version) applied inside the graph search.
 *
 * <p>Design (README "Recommendations", "Vector index"): HNSW needs one vector per item, but the
 * similarity of a text to an image is the <em>maximum</em> over the image's Q query vectors. Each
 * item is therefore indexed by its <em>pooled</em> vector (the normalised mean of its vectors); a
 * search asks HNSW for the {@code candidates} nearest pooled vectors, then re-ranks those
 * candidates by the max-similarity over all their vectors and keeps the top k. Recall@10 against
 * exact float search is measured in {@code VectorIndexRecallTest}; with Q = 1 the pooled vector is
 * the vector and its score is Lucene's exact dot product.
 *
 * <p>Memory per item, besides Lucene's float copy of the pooled vector ({@code 4 * dim} bytes) and
 * its graph (about {@code 8 * maxConnections} bytes on the bottom layer): a single vector is kept
 * as {@code dim} floats, so that {@link #similarity} stays exact; Q > 1 vectors are kept for
 * re-ranking as {@link Precision#FLOAT32} ({@code 4 * Q * dim} bytes: 32 KiB for 32 x 256) or
 * {@link Precision#INT8} ({@code Q * (dim + 4)} bytes: 8.1 KiB), whose dot products are off by
 * about (largest magnitude / 127) / sqrt(12): a few 1e-4 for 256-d unit vectors.
 *
 * <p>Writes and searches may run on different threads, and several threads may write at once (a
 * bulk build on every core): Lucene's writer and searcher manager are thread-safe and a search
 * first refreshes the searcher when something was written since the last one. Merges build the
 * merged HNSW graph on every core ({@link #optimize} after a bulk build gives one graph).
 */
public final class VectorIndex implements AutoCloseable {
  private static final String ID = "id";
  private static final String VECTOR = "pooled";
  private static final String CATEGORY = "category";
  private static final String STOCK = "stock";
  private static final String VERSION = "version";

  /** How the vectors of a multi-vector item are kept for re-ranking. */
  public enum Precision {
    /** 4 bytes a component: exact max-similarity. */
    FLOAT32,
    /**
     * One signed byte a component with one float scale per vector (its largest magnitude / 127): a
     * quarter of the memory, dot products within a few 1e-4 at 256-d.
     */
    INT8
  }

  /**
   * HNSW and re-ranking parameters.
   *
   * @param maxConnections HNSW graph degree (Lucene's M; ours is 32, see {@link #defaults})
   * @param beamWidth HNSW construction beam (Lucene's default and ours: 100)
   * @param candidates pooled-vector neighbours fetched per search before re-ranking (at least k)
   * @param rerank whether candidates are re-ranked by max-similarity (off only to measure what
   *     re-ranking buys)
   * @param precision how multi-vector items' vectors are kept for re-ranking (single vectors are
   *     always kept as floats)
   */
  public record Options(
      int maxConnections, int beamWidth, int candidates, boolean rerank, Precision precision) {
    public Options {
      if (maxConnections < 2 || beamWidth < 2 || candidates < 1 || precision == null) {
        throw new IllegalArgumentException(
            "expected maxConnections >= 2, beamWidth >= 2, candidates >= 1 and a precision, got "
                + maxConnections
                + ", "
                + beamWidth
                + ", "
                + candidates
                + ", "
                + precision);
      }
    }

    /**
     * M = 32, beam 100, 200 candidates, re-ranking on, float32 re-ranking vectors: the graph that
     * keeps recall@10 at 1M products. Measured by {@code scripts/bench-recommend} on our 2-core
     * machine (Java 17, no SIMD; README "Recommendations"): at 1M, M 16 / beam 50 gave 0.829 with
     * 200 candidates and 0.930 with 1,000, where M 32 / beam 100 gives 0.986 with 200 (p99 6.9 ms)
     * for 2.1x the build CPU; at 100k the smaller graph already gives 0.998, for a third of the
     * build CPU, so small catalogs that rebuild often may lower both.
     */
    public static Options defaults() {
      return new Options(32, 100, 200, true, Precision.FLOAT32);
    }

    /** These options with {@code precision} for multi-vector items. */
    public Options withPrecision(Precision precision) {
      return new Options(maxConnections, beamWidth, candidates, rerank, precision);
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
   * @param similarity max-similarity of the query with the item's vectors (re-ranked; exact for
   *     float32, within a few 1e-4 for 256-d int8), or the pooled vector's dot product (re-ranking
   *     off)
   */
  public record Scored(String id, double similarity) {}

  /** An item's vectors as kept for re-ranking. */
  private sealed interface Item permits Floats, Int8 {
    int count();

    /** The largest dot product of {@code query} with one of the item's vectors. */
    double maxSimilarity(float[] query);
  }

  private record Floats(float[] vectors, int count) implements Item {
    @Override
    public double maxSimilarity(float[] query) {
      int dim = query.length;
      double best = Double.NEGATIVE_INFINITY;
      for (int base = 0; base < vectors.length; base += dim) {
        double dot = 0;
        for (int d = 0; d < dim; d++) {
          dot += query[d] * vectors[base + d];
        }
        best = Math.max(best, dot);
      }
      return best;
    }
  }

  private record Int8(byte[] codes, float[] scales) implements Item {
    static Int8 of(float[] vectors, int dim) {
      int count = vectors.length / dim;
      byte[] codes = new byte[vectors.length];
      float[] scales = new float[count];
      for (int v = 0; v < count; v++) {
        float max = 0;
        for (int d = v * dim; d < (v + 1) * dim; d++) {
          max = Math.max(max, Math.abs(vectors[d]));
        }
        float scale = max > 0 ? max / 127f : 1f;
        for (int d = v * dim; d < (v + 1) * dim; d++) {
          codes[d] = (byte) Math.round(vectors[d] / scale);
        }
        scales[v] = scale;
      }
      return new Int8(codes, scales);
    }

    @Override
    public int count() {
      return scales.length;
    }

    @Override
    public double maxSimilarity(float[] query) {
      int dim = query.length;
      double best = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < scales.length; v++) {
        // Float accumulation: its rounding (about 1e-6) is far below the int8 error (about 1e-4).
        float dot = 0;
        int base = v * dim;
        for (int d = 0; d < dim; d++) {
          dot += query[d] * codes[base + d];
        }
        best = Math.max(best, (double) dot * scales[v]);
      }
      return best;
    }
  }

  private final int dim;
  private final Options options;
  private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
  private final ExecutorService mergeWorkers;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final Map<String, Item> items = new ConcurrentHashMap<>();
  private final AtomicBoolean dirty = new AtomicBoolean();
  private final Object refreshLock = new Object();

  /** An empty index of {@code dim}-dimensional unit vectors. */
  public VectorIndex(int dim, Options options) {
    if (dim < 1) {
      throw new IllegalArgumentException("expected a positive dimension, got " + dim);
    }
    this.dim = dim;
    this.options = options;
    // Merging segments rebuilds their HNSW graphs (from the largest one): on every core, since
    // that is where a bulk build spends its time.
    int cores = Runtime.getRuntime().availableProcessors();
    mergeWorkers = cores > 1 ? Executors.newFixedThreadPool(cores, daemonThreads()) : null;
    KnnVectorsFormat format =
        cores > 1
            ? new Lucene99HnswVectorsFormat(
                options.maxConnections(), options.beamWidth(), cores, mergeWorkers)
            : new Lucene99HnswVectorsFormat(options.maxConnections(), options.beamWidth());
    IndexWriterConfig config =
        new IndexWriterConfig()
            .setCodec(
                new Lucene912Codec() {
                  @Override
                  public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                    return format;
                  }
                })
            // Each flush builds a graph that a merge later rebuilds: a buffer big enough for a
            // whole catalog in one segment per writing thread (1M x 256-d is about 1.2 GB in two),
            // so that a bulk build flushes once. Lucene caps each thread's buffer at 1945 MB.
            .setRAMBufferSizeMB(4096);
    try {
      writer = new IndexWriter(directory, config);
      searchers = new SearcherManager(writer, null);
    } catch (IOException e) {
      if (mergeWorkers != null) {
        mergeWorkers.shutdownNow();
      }
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
    doc.add(new StringField(ID, id, Field.Store.NO));
    // Doc values, not stored fields: a search maps its candidates back to ids without
    // decompressing a stored-fields block per candidate.
    doc.add(new BinaryDocValuesField(ID, new BytesRef(id)));
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
    int count = vectors.length / dim;
    items.put(
        id,
        count > 1 && options.precision() == Precision.INT8
            ? Int8.of(vectors, dim)
            : new Floats(vectors.clone(), count));
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

  /**
   * Merges to one segment (one HNSW graph, built on every core from the largest segment's): worth
   * it after a bulk build, since a search visits every segment's graph.
   */
  public void optimize() {
    try {
      writer.forceMerge(1);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot merge the index", e);
    }
    dirty.set(true);
  }

  /**
   * Max-similarity of {@code query} with the item's vectors (the score {@link #search} re-ranks
   * by), or NaN when the item is not indexed.
   */
  public double similarity(float[] query, String id) {
    if (query.length != dim) {
      throw new IllegalArgumentException(
          "expected a " + dim + "-d query vector, got " + query.length);
    }
    Item item = items.get(id);
    return item == null ? Double.NaN : item.maxSimilarity(query);
  }

  /**
   * The {@code k} items most similar to {@code query} (a unit vector) among those passing {@code
   * filter}, best first (ties by id).
   */
  public List<Scored> search(float[] query, int k, Filter filter) {
    return search(query, k, filter, options.candidates());
  }

  /**
   * {@link #search(float[], int, Filter)} with {@code candidates} pooled-vector neighbours fetched
   * before re-ranking instead of the options' count: one index, several points on the recall and
   * latency curve (the benchmark measures them on one build).
   *
   * @throws IllegalArgumentException when {@code candidates} is below 1
   */
  public List<Scored> search(float[] query, int k, Filter filter, int candidates) {
    if (candidates < 1) {
      throw new IllegalArgumentException("expected candidates >= 1, got " + candidates);
    }
    if (query.length != dim) {
      throw new IllegalArgumentException(
          "expected a " + dim + "-d query vector, got " + query.length);
    }
    if (k <= 0 || items.isEmpty()) {
      return List.of();
    }
    // The excluded item is dropped after the search, not in Lucene's filter: a filter that is the
    // same from one search to the next is cached by Lucene as a bit set, where one that names a
    // different item each time would be rebuilt from the postings (milliseconds at 1M items).
    int fetch = (options.rerank() ? Math.max(k, candidates) : k);
    if (filter.excludeId() != null) {
      fetch++;
    }
    List<Scored> found = new ArrayList<>(fetch);
    try {
      refresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        TopDocs top =
            searcher.search(new KnnFloatVectorQuery(VECTOR, query, fetch, query(filter)), fetch);
        ScoreDoc[] hits = top.scoreDocs.clone();
        // Doc values are read forwards: visit the hits in doc order.
        Arrays.sort(hits, Comparator.comparingInt(h -> h.doc));
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int leafIndex = -1;
        LeafReaderContext leaf = null;
        BinaryDocValues ids = null;
        for (ScoreDoc hit : hits) {
          int li = ReaderUtil.subIndex(hit.doc, leaves);
          if (li != leafIndex) {
            leafIndex = li;
            leaf = leaves.get(li);
            ids = leaf.reader().getBinaryDocValues(ID);
          }
          if (ids == null || !ids.advanceExact(hit.doc - leaf.docBase)) {
            continue;
          }
          String id = ids.binaryValue().utf8ToString();
          Item item = items.get(id);
          if (item == null || id.equals(filter.excludeId())) {
            continue; // removed since the searcher was refreshed, or excluded
          }
          // Lucene's DOT_PRODUCT score is (1 + dot) / 2: for one vector that is the exact score.
          double score =
              options.rerank() && item.count() > 1
                  ? item.maxSimilarity(query)
                  : 2 * (double) hit.score - 1;
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

  @Override
  public void close() {
    try {
      searchers.close();
      writer.close();
      directory.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the index", e);
    } finally {
      if (mergeWorkers != null) {
        mergeWorkers.shutdownNow();
      }
    }
  }

  /**
   * Makes the searcher see every write so far. Under a lock: a search that finds {@code dirty}
   * already cleared by another search's refresh must wait for that refresh to finish, or it would
   * acquire the searcher from before the writes (two concurrent searches right after the catalog
   * loaded: the second saw an empty index).
   */
  private void refresh() throws IOException {
    synchronized (refreshLock) {
      if (dirty.getAndSet(false)) {
        searchers.maybeRefreshBlocking();
      }
    }
  }

  /** Lucene's filter for {@code f} without its excluded item, or null when nothing is filtered. */
  private static Query query(Filter f) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    int clauses = 0;
    if (f.category() != null) {
      b.add(new TermQuery(new Term(CATEGORY, f.category())), BooleanClause.Occur.FILTER);
      clauses++;
    }
    if (f.inStockOnly()) {
      b.add(new TermQuery(new Term(STOCK, "1")), BooleanClause.Occur.FILTER);
      clauses++;
    }
    if (f.modelVersion() != null) {
      b.add(new TermQuery(new Term(VERSION, f.modelVersion())), BooleanClause.Occur.FILTER);
      clauses++;
    }
    return clauses == 0 ? null : b.build();
  }

  /** The normalised mean of the rows of {@code dim} floats; a single row is taken as it is. */
  static float[] pooled(float[] vectors, int dim) {
    return vectors.length == dim ? vectors.clone() : ImageFeatures.pooled(vectors, dim);
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "vector-index-merge-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
