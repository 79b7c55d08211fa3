package io.shoplens.processor.topology.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.image.ImageDecodeException;
import io.shoplens.processor.topology.RejectedRecordException.UploadNotFoundException;
import io.shoplens.processor.topology.jobs.FailurePolicy.Failure;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The one failure policy every job processor uses: stage, retriable, counted. */
class FailurePolicyTest {

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(
            new UploadNotFoundException("gone"), new Failure(ProcessingStage.JOIN, false, true)),
        Arguments.of(
            new ImageRefusedException(ImageRefusedException.Reason.TOO_LARGE, "big", false),
            new Failure(ProcessingStage.RESOLVE_IMAGE, false, true)),
        Arguments.of(
            new ImageRefusedException(ImageRefusedException.Reason.TOO_LARGE, "slow", true),
            new Failure(ProcessingStage.RESOLVE_IMAGE, true, true)),
        Arguments.of(
            new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT, "gif?"),
            new Failure(ProcessingStage.PREPROCESS, false, true)),
        Arguments.of(
            new IllegalArgumentException("prompt too long"),
            new Failure(ProcessingStage.PREPROCESS, false, true)),
        Arguments.of(
            new UnsupportedOperationException("cannot embed"),
            new Failure(ProcessingStage.INFERENCE, false, true)),
        Arguments.of(
            new RequestRejectedException("queue full"),
            new Failure(ProcessingStage.INFERENCE, true, false)),
        Arguments.of(
            new InferenceException("decoder failed"),
            new Failure(ProcessingStage.INFERENCE, true, true)),
        Arguments.of(
            new CompletionException(new ExecutionException(new IllegalArgumentException("bad"))),
            new Failure(ProcessingStage.PREPROCESS, false, true)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void shouldClassifyEachFailureOnce(Throwable error, Failure expected) {
    // Given a failure as a job's future reports it / When classified / Then
    assertThat(FailurePolicy.classify(error)).isEqualTo(expected);
  }
}
