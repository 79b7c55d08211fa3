package io.shoplens.processor.app.evaluate;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.dataset.CatalogProduct;
import io.shoplens.processor.app.dataset.CatalogTopicReader;
import io.shoplens.processor.app.dataset.DatasetRow;
import io.shoplens.processor.app.dataset.ProductTruth;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.dataset.Skips;
import io.shoplens.processor.app.evaluate.WindowEvaluation.Request;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The truth of a window's inputs, as a training set would state it: a product's truth follows from
 * its attributes in the compacted catalog topic ({@link ProductTruth}); a question asked in one of
 * the templates' phrasings (compared by {@link #words}) gets the template's type and answer, an
 * upload the catalog caption. Any other question has no known truth.
 *
 * @param live the live application's configuration (cluster, registry, client security)
 * @param request the timeout for reading the catalog
 * @param templates the question templates the truth is built with
 * @param vocabulary the attribute vocabulary the truth is built with
 * @param out where reading the catalog reports its progress
 */
record WindowTruth(
    ShopLensConfig live,
    Request request,
    QuestionTemplates templates,
    AttributeVocabulary vocabulary,
    PrintWriter out) {

  /** The input's row with its truth, or null for a question in none of the templates' words. */
  DatasetRow row(WindowInput input, String productId, ProductTruth truth) {
    String image = "upload " + input.uploadId;
    if (input.question == null) {
      return new DatasetRow(
          image,
          productId,
          QuestionTemplates.CAPTION,
          null,
          truth.caption(templates),
          "window",
          null);
    }
    String asked = words(input.question);
    for (QuestionTemplates.Question q : truth.questions(templates)) {
      if (words(q.question()).equals(asked)) {
        return new DatasetRow(
            image, productId, q.type(), input.question, q.answer(), "window", null);
      }
    }
    return null;
  }

  /** A question compared by its words: case, spacing and final punctuation do not matter. */
  static String words(String question) {
    return question
        .strip()
        .toLowerCase(Locale.ROOT)
        .replaceAll("\\s+", " ")
        .replaceAll("[\\s?.!]+$", "");
  }

  /** Product id to its truth (empty when its attributes give none), from the catalog topic. */
  Map<String, Optional<ProductTruth>> catalog() {
    Skips skips = new Skips(new PrintWriter(Writer.nullWriter()));
    List<CatalogProduct> products =
        CatalogTopicReader.read(
            live.kafkaProperties(),
            Topics.CATALOG_PRODUCTS,
            request.timeout(),
            Integer.MAX_VALUE,
            out,
            skips);
    Map<String, Optional<ProductTruth>> truths = new HashMap<>();
    for (CatalogProduct p : products) {
      truths.put(
          p.productId(),
          Optional.ofNullable(ProductTruth.of(p, templates, vocabulary, (reason, detail) -> {})));
    }
    return truths;
  }
}
