package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.bundle.BundleException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

/**
 * The JVM's single {@link OrtEnvironment} and the session options an {@link EngineConfig} asks for.
 *
 * <p>CUDA comes from the {@code com.microsoft.onnxruntime:onnxruntime_gpu} artifact, selected by
 * building with {@code -Pcuda}. The Maven Central {@code onnxruntime_gpu} 1.29.0 jar links the CUDA
 * 12 runtime ({@code libcudart.so.12}, {@code libcublas.so.12}, {@code libcurand.so.10}) and loads
 * cuDNN 9 (checked with {@code readelf -d} on its {@code libonnxruntime_providers_cuda.so}),
 * although ONNX Runtime's own CUDA 13 builds exist elsewhere; a host without CUDA 12 libraries
 * fails at start-up with the loader's message. Asking for CUDA where it cannot load is an {@link
 * EngineStartupException}; there is never a silent fall-back to the CPU.
 */
public final class OrtRuntime {

  private OrtRuntime() {}

  /**
   * Opens the graph in {@code file} as a session and adds it to {@code opened}, so that a caller
   * opening several can close those already open ({@link #closeQuietly}) when a later one fails.
   *
   * @throws EngineStartupException when the session cannot be created under the CUDA provider
   * @throws BundleException when the file is not a graph ONNX Runtime can load
   */
  public static OrtSession openSession(
      OrtEnvironment env,
      Path file,
      OrtSession.SessionOptions options,
      EngineConfig config,
      List<? super OrtSession> opened) {
    try {
      OrtSession session = env.createSession(file.toString(), options);
      opened.add(session);
      return session;
    } catch (OrtException e) {
      if (config.executionProvider() == EngineConfig.ExecutionProvider.CUDA) {
        throw new EngineStartupException(
            "cannot create a CUDA session for " + file + ": " + e.getMessage(), e);
      }
      throw new BundleException(file, "expected a loadable ONNX graph: " + e.getMessage(), e);
    }
  }

  /**
   * Closes each of {@code handles} (sessions, tokenizers), ignoring failures: used on shutdown and
   * to undo a half-opened set, where the original failure, if any, is what matters.
   */
  public static void closeQuietly(List<? extends AutoCloseable> handles) {
    for (AutoCloseable handle : handles) {
      try {
        handle.close();
      } catch (Exception e) {
        // Nothing useful to do with it.
      }
    }
  }

  /** ONNX Runtime's process-wide environment (ONNX Runtime itself keeps one per JVM). */
  public static OrtEnvironment environment() {
    return OrtEnvironment.getEnvironment();
  }

  /** Execution providers the ONNX Runtime on the class path was built with. */
  public static EnumSet<OrtProvider> availableProviders() {
    return OrtEnvironment.getAvailableProviders();
  }

  /**
   * Session options for a configuration. The caller closes them after creating its sessions.
   *
   * @throws EngineStartupException if CUDA is asked for and this ONNX Runtime lacks it or cannot
   *     load it
   */
  public static OrtSession.SessionOptions sessionOptions(EngineConfig config) {
    environment();
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (config.intraOpThreads() > 0) {
        options.setIntraOpNumThreads(config.intraOpThreads());
      }
      if (config.interOpThreads() > 0) {
        options.setInterOpNumThreads(config.interOpThreads());
      }
      if (config.executionProvider() == EngineConfig.ExecutionProvider.CUDA) {
        addCuda(options, config.cudaDeviceId());
      }
      return options;
    } catch (OrtException e) {
      options.close();
      throw new EngineStartupException("cannot configure ONNX Runtime session: " + e, e);
    } catch (RuntimeException e) {
      options.close();
      throw e;
    }
  }

  private static void addCuda(OrtSession.SessionOptions options, int deviceId) {
    EnumSet<OrtProvider> available = availableProviders();
    if (!available.contains(OrtProvider.CUDA)) {
      throw new EngineStartupException(
          "execution provider CUDA (device "
              + deviceId
              + ") was requested, but the ONNX Runtime on the class path offers only "
              + available
              + ": this is the CPU build (com.microsoft.onnxruntime:onnxruntime). Build with"
              + " -Pcuda to use com.microsoft.onnxruntime:onnxruntime_gpu (CUDA 12.x, cuDNN 9.x),"
              + " or configure the CPU provider",
          null);
    }
    try {
      options.addCUDA(deviceId);
    } catch (OrtException | RuntimeException e) {
      throw new EngineStartupException(
          "execution provider CUDA (device "
              + deviceId
              + ") cannot be loaded: "
              + e.getMessage()
              + " (ONNX Runtime 1.29 GPU needs an NVIDIA driver, CUDA 12.x and cuDNN 9.x on the"
              + " library path)",
          e);
    }
  }
}
